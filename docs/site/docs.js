// Starts Redoc on the API description. The nonce nginx put on this
// script element is handed to Redoc, which sets it on the <style>
// elements it creates, so the page needs no 'unsafe-inline'.
(function () {
	'use strict';
	var el = document.getElementById('redoc');
	var nonce = document.currentScript ? document.currentScript.nonce : undefined;
	/* global Redoc */
	Redoc.init(el.getAttribute('data-spec-url'), {
		nonce: nonce,
		hideDownloadButton: false,
		expandResponses: '200,201',
		jsonSampleExpandLevel: 3
	}, el);
}());
