/*
 * probe.c - what an uploaded file really is: PNG, JPEG or WebP, decided
 * from its bytes by walking the whole container structure, never from a
 * filename or a client's Content-Type. No pixel data is decoded (no image
 * library is linked); the container walk is enough to refuse scripts or
 * SVG renamed .png, truncated files, polyglots with trailing payloads, and
 * decompression bombs (dimensions are checked against
 * EMPORIUM_MEDIA_MAX_PIXELS before anyone decodes the image).
 */
#include <string.h>

#include "media/media.h"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

uint32_t media_crc32(uint32_t crc, const unsigned char *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;

	if (!ready) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		ready = true; /* per process, single-threaded workers */
	}
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static bool bad(struct em_error *err, const char *what)
{
	em_error_set(err, EM_ERR_INVALID, "file", "the image is damaged: %s", what);
	return false;
}

static bool png_probe(const unsigned char *d, size_t len, struct media_image_info *info,
		      struct em_error *err)
{
	size_t off = 8;
	bool ihdr = false, idat = false, iend = false;

	while (off < len) {
		uint32_t clen;
		const unsigned char *type;

		if (len - off < 12)
			return bad(err, "a PNG chunk is cut off");
		clen = be32(d + off);
		type = d + off + 4;
		if (clen > 0x7fffffffu || clen > len - off - 12)
			return bad(err, "a PNG chunk runs past the end of the file");
		for (int i = 0; i < 4; i++)
			if (!((type[i] >= 'A' && type[i] <= 'Z') || (type[i] >= 'a' && type[i] <= 'z')))
				return bad(err, "a PNG chunk has an invalid type");
		if (media_crc32(0, type, 4 + (size_t)clen) != be32(d + off + 8 + clen))
			return bad(err, "a PNG chunk's CRC does not match");
		if (!ihdr) {
			const unsigned char *h = type + 4;
			unsigned depth, color;

			if (memcmp(type, "IHDR", 4) != 0 || clen != 13)
				return bad(err, "the PNG does not start with IHDR");
			info->width = be32(h);
			info->height = be32(h + 4);
			depth = h[8];
			color = h[9];
			if (info->width > 0x7fffffffu || info->height > 0x7fffffffu)
				return bad(err, "the PNG's dimensions are out of range");
			/* the bit depths each colour type allows (PNG spec 11.2.2) */
			if (!((color == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 ||
					      depth == 16)) ||
			      (color == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
			      ((color == 2 || color == 4 || color == 6) && (depth == 8 || depth == 16))))
				return bad(err, "the PNG's bit depth and colour type do not match");
			if (h[10] != 0 || h[11] != 0 || h[12] > 1)
				return bad(err, "the PNG's IHDR has unknown methods");
			ihdr = true;
		} else if (memcmp(type, "IHDR", 4) == 0) {
			return bad(err, "the PNG has two IHDR chunks");
		} else if (memcmp(type, "IDAT", 4) == 0) {
			idat = true;
		} else if (memcmp(type, "IEND", 4) == 0) {
			if (clen != 0)
				return bad(err, "the PNG's IEND is not empty");
			iend = true;
			off += 12;
			break;
		}
		off += 12 + (size_t)clen;
	}
	if (!iend)
		return bad(err, "the PNG has no IEND (truncated?)");
	if (off != len)
		return bad(err, "data follows the end of the PNG");
	if (!idat)
		return bad(err, "the PNG has no image data");
	info->type = MEDIA_IMAGE_PNG;
	info->content_type = "image/png";
	info->ext = "png";
	return true;
}

/*
 * JPEG (ITU T.81 Annex B): markers are FF xx (any number of FF fill bytes
 * before xx); RSTn, SOI, EOI and TEM stand alone, the others carry a
 * 16-bit length that counts itself. After SOS comes entropy-coded data in
 * which FF is followed by 00 (stuffing) or RSTn; any other marker ends it.
 */
static bool jpeg_probe(const unsigned char *d, size_t len, struct media_image_info *info,
		       struct em_error *err)
{
	size_t off = 2;
	bool sof = false;

	for (;;) {
		unsigned m;
		uint32_t seglen;

		if (off >= len || d[off] != 0xff)
			return bad(err, "a JPEG marker is missing or cut off");
		while (off < len && d[off] == 0xff)
			off++;
		if (off >= len)
			return bad(err, "the JPEG ends inside a marker");
		m = d[off++];
		if (m == 0xd9) /* EOI */
			break;
		if (m == 0x00 || m == 0xd8)
			return bad(err, "the JPEG has a misplaced marker");
		if ((m >= 0xd0 && m <= 0xd7) || m == 0x01)
			continue;
		if (len - off < 2)
			return bad(err, "a JPEG segment is cut off");
		seglen = be16(d + off);
		if (seglen < 2 || seglen > len - off)
			return bad(err, "a JPEG segment runs past the end of the file");
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			const unsigned char *s = d + off + 2;

			/* Browsers show baseline, extended and progressive
			 * Huffman JPEGs; lossless and arithmetic ones, no. */
			if (m != 0xc0 && m != 0xc1 && m != 0xc2) {
				em_error_set(err, EM_ERR_MEDIA_TYPE, "file",
					     "only baseline and progressive JPEGs are accepted");
				return false;
			}
			if (sof)
				return bad(err, "the JPEG has two frame headers");
			if (seglen < 8 || seglen != 8 + 3u * s[5] || s[5] == 0)
				return bad(err, "the JPEG's frame header is malformed");
			info->height = be16(s + 1);
			info->width = be16(s + 3);
			sof = true;
		}
		off += seglen;
		if (m == 0xda) { /* SOS: walk the entropy-coded segment */
			if (!sof)
				return bad(err, "the JPEG has a scan before its frame header");
			for (;;) {
				const unsigned char *ff;
				unsigned x;

				ff = off < len ? memchr(d + off, 0xff, len - off) : NULL;
				if (!ff || (size_t)(ff - d) + 1 >= len)
					return bad(err, "the JPEG's scan data is cut off (no EOI)");
				off = (size_t)(ff - d);
				x = d[off + 1];
				if (x == 0x00 || (x >= 0xd0 && x <= 0xd7))
					off += 2; /* stuffed FF, or a restart marker */
				else if (x == 0xff)
					off += 1; /* fill byte before a marker */
				else
					break;    /* a marker ends the scan; off is at its FF */
			}
		}
	}
	if (!sof)
		return bad(err, "the JPEG has no frame header");
	if (off != len)
		return bad(err, "data follows the end of the JPEG");
	info->type = MEDIA_IMAGE_JPEG;
	info->content_type = "image/jpeg";
	info->ext = "jpg";
	return true;
}

/*
 * WebP (RIFF container, Google's "WebP Container Specification"): RIFF,
 * size, WEBP, then chunks (FourCC, LE32 size, data, a pad byte to even).
 * The first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
 */
static bool webp_frame(const unsigned char *c, uint32_t clen, bool lossless,
		       uint32_t *w, uint32_t *h, struct em_error *err)
{
	if (lossless) {
		uint32_t bits;

		if (clen < 5 || c[0] != 0x2f)
			return bad(err, "the WebP lossless header is malformed");
		bits = le32(c + 1);
		*w = (bits & 0x3fff) + 1;
		*h = ((bits >> 14) & 0x3fff) + 1;
		if (bits >> 29 != 0) /* version must be 0 */
			return bad(err, "the WebP lossless version is unknown");
	} else {
		if (clen < 10 || (c[0] & 1) != 0 || c[3] != 0x9d || c[4] != 0x01 || c[5] != 0x2a)
			return bad(err, "the WebP lossy header is malformed");
		*w = (c[6] | (uint32_t)c[7] << 8) & 0x3fff;
		*h = (c[8] | (uint32_t)c[9] << 8) & 0x3fff;
	}
	return true;
}

static bool webp_probe(const unsigned char *d, size_t len, struct media_image_info *info,
		       struct em_error *err)
{
	size_t off = 12;
	bool first = true, extended = false, frame = false;
	uint32_t fw = 0, fh = 0;

	if (le32(d + 4) != len - 8)
		return bad(err, "the WebP's RIFF size does not match the file (truncated?)");
	while (off < len) {
		uint32_t clen;
		const unsigned char *c;

		if (len - off < 8)
			return bad(err, "a WebP chunk is cut off");
		clen = le32(d + off + 4);
		c = d + off + 8;
		if (clen > len - off - 8 || (clen & 1 && clen + 1 > len - off - 8))
			return bad(err, "a WebP chunk runs past the end of the file");
		if (first) {
			if (memcmp(d + off, "VP8X", 4) == 0) {
				if (clen < 10)
					return bad(err, "the WebP extended header is malformed");
				if (c[0] & 0x02) {
					em_error_set(err, EM_ERR_MEDIA_TYPE, "file",
						     "animated WebP images are not accepted");
					return false;
				}
				info->width = le24(c + 4) + 1;
				info->height = le24(c + 7) + 1;
				extended = true;
			} else if (memcmp(d + off, "VP8 ", 4) == 0 || memcmp(d + off, "VP8L", 4) == 0) {
				if (!webp_frame(c, clen, d[off + 3] == 'L', &info->width,
						&info->height, err))
					return false;
				frame = true;
			} else {
				return bad(err, "the WebP does not start with VP8, VP8L or VP8X");
			}
			first = false;
		} else if (extended && (memcmp(d + off, "VP8 ", 4) == 0 ||
					memcmp(d + off, "VP8L", 4) == 0)) {
			if (frame)
				return bad(err, "the WebP has two image chunks");
			if (!webp_frame(c, clen, d[off + 3] == 'L', &fw, &fh, err))
				return false;
			if (fw != info->width || fh != info->height)
				return bad(err, "the WebP's canvas and image sizes differ");
			frame = true;
		} else if (!extended) {
			return bad(err, "a simple WebP has extra chunks");
		}
		off += 8 + (size_t)clen + (clen & 1);
	}
	if (off != len || !frame)
		return bad(err, "the WebP has no image data");
	info->type = MEDIA_IMAGE_WEBP;
	info->content_type = "image/webp";
	info->ext = "webp";
	return true;
}

bool media_image_probe(const unsigned char *data, size_t len, int64_t max_pixels,
		       struct media_image_info *info, struct em_error *err)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	bool ok;

	memset(info, 0, sizeof(*info));
	if (len >= 8 && memcmp(data, png_sig, 8) == 0)
		ok = png_probe(data, len, info, err);
	else if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		ok = jpeg_probe(data, len, info, err);
	else if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
		ok = webp_probe(data, len, info, err);
	else {
		em_error_set(err, EM_ERR_MEDIA_TYPE, "file",
			     "the file is not a JPEG, PNG or WebP image");
		return false;
	}
	if (!ok)
		return false;
	if (info->width == 0 || info->height == 0)
		return bad(err, "the image has a zero width or height");
	if ((uint64_t)info->width * info->height > (uint64_t)max_pixels) {
		em_error_set(err, EM_ERR_INVALID, "file",
			     "the image is %ux%u pixels, more than the %lld allowed",
			     (unsigned)info->width, (unsigned)info->height, (long long)max_pixels);
		return false;
	}
	return true;
}
