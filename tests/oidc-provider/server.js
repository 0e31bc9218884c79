#!/usr/bin/env node
// server.js - a local OpenID Connect provider for Emporium's OAuth login
// tests: a real `oidc-provider` instance (not an imitation), so the test
// exercises discovery, PKCE, the code exchange, client authentication and
// RS256 ID tokens exactly as a production provider serves them.
//
//   node server.js --port 0 --client-id ID --client-secret SECRET \
//        --redirect-uri URI [--redirect-uri URI ...] \
//        [--auth-method client_secret_basic|client_secret_post] [--host 127.0.0.1]
//
// Prints one line "ready <issuer>" on stdout once it listens (port 0 picks
// a free one), and exits on SIGTERM/SIGINT.
//
// The browser part is automatic: the interaction page signs in a test
// account and consents at once, through oidc-provider's interaction API.
// A test picks the account by sending request headers along the redirects:
//   X-Test-Email: who@example.test   (default oidc-user@example.test)
//   X-Test-Email-Verified: false     (default true)
//   X-Test-Name: Some Name
// The subject is derived from the e-mail, so the same e-mail is the same
// account at this provider every time.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import process from 'node:process';
import { format } from 'node:util';

import Provider from 'oidc-provider';

function parseArgs(argv) {
  const opts = {
    port: 0, host: '127.0.0.1', clientId: 'emporium-test', clientSecret: '',
    redirectUris: [], authMethod: 'client_secret_basic',
  };
  for (let i = 2; i < argv.length; i += 1) {
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (argv[i]) {
      case '--port': opts.port = Number(next()); break;
      case '--host': opts.host = next(); break;
      case '--client-id': opts.clientId = next(); break;
      case '--client-secret': opts.clientSecret = next(); break;
      case '--redirect-uri': opts.redirectUris.push(next()); break;
      case '--auth-method': opts.authMethod = next(); break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.clientSecret || opts.clientSecret.length < 32) {
    throw new Error('--client-secret of at least 32 characters is required');
  }
  if (opts.redirectUris.length === 0) throw new Error('--redirect-uri is required');
  if (!['client_secret_basic', 'client_secret_post'].includes(opts.authMethod)) {
    throw new Error('--auth-method must be client_secret_basic or client_secret_post');
  }
  return opts;
}

const accounts = new Map();

function accountFor(email, verified, name) {
  const id = `sub-${createHash('sha256').update(email).digest('hex').slice(0, 24)}`;
  accounts.set(id, { email, email_verified: verified, name });
  return id;
}

function makeProvider(issuer, opts) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: randomBytes(8).toString('hex'),
    use: 'sig',
    alg: 'RS256',
  };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: opts.clientId,
      client_secret: opts.clientSecret,
      redirect_uris: opts.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: opts.authMethod,
      id_token_signed_response_alg: 'RS256',
    }],
    clientAuthMethods: [opts.authMethod],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Put the e-mail claims into the ID token itself, as Google and
    // Microsoft do: Emporium reads them from there, not from userinfo.
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const a = accounts.get(id);
      if (!a) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: a.email, email_verified: a.email_verified, name: a.name };
        },
      };
    },
    renderError(ctx, out) {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  });
  return provider;
}

// The "browser" part: sign in the account the test asked for, then consent
// to everything the client asked for.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    const email = String(req.headers['x-test-email'] || 'oidc-user@example.test');
    const verified = req.headers['x-test-email-verified'] !== 'false';
    const name = String(req.headers['x-test-name'] || 'OIDC Test User');
    const accountId = accountFor(email, verified, name);
    await provider.interactionFinished(req, res, { login: { accountId } },
      { mergeWithLastSubmission: false });
    return;
  }
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope || 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } },
      { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unexpected prompt ${details.prompt.name}`);
}

function main() {
  const opts = parseArgs(process.argv);
  // stdout carries only the ready line: whoever started us may stop
  // reading it then, so oidc-provider's own notices go to stderr.
  const toStderr = (...a) => process.stderr.write(`${format(...a)}\n`);
  console.log = toStderr;
  console.info = toStderr;
  process.stdout.on('error', () => {});
  let provider = null;
  let callback = null;
  const server = http.createServer((req, res) => {
    if (!provider) {
      res.statusCode = 503;
      res.end();
      return;
    }
    if (req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((e) => {
        process.stderr.write(`interaction failed: ${e.stack || e}\n`);
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
      return;
    }
    callback(req, res);
  });
  server.listen(opts.port, opts.host, () => {
    const { port } = server.address();
    const issuer = `http://${opts.host}:${port}`;
    provider = makeProvider(issuer, opts);
    callback = provider.callback();
    process.stdout.write(`ready ${issuer}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (e) {
  process.stderr.write(`oidc-provider: ${e.message}\n`);
  process.exit(2);
}
