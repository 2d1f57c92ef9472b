// A real OAuth 2.0 authorization server for ue-magic's interop tests: panva's oidc-provider,
// set up for the client_credentials grant and RS256 JWT access tokens, on loopback only.
//
//   node oidc-server.mjs [PORT]          PORT 0 (the default) picks a free port
//
// Settings (environment):
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   the one client (client_secret_post)            required
//   OIDC_RESOURCE                        the audience (resource server) tokens are for  required
//   OIDC_SCOPES                          the resource's scopes, space separated (default:
//                                        Usage Engine's metering scopes). As RFC 8707 servers do,
//                                        a token gets the requested scopes the resource knows;
//                                        unlike Auth0, no scope asked for means none granted.
//   OIDC_ACCESS_TOKEN_TTL                access token lifetime in seconds (default 3600)
//   OIDC_ACCOUNT_ID                      if set, an `accountId` claim, as Usage Engine's tokens have
//   OIDC_PORT                            the port, when none is given on the command line
//
// Once listening it prints one JSON line on stdout: issuer, port, token_endpoint, jwks_uri.
// stderr gets one JSON line per token request (event "token" or "token_error"), so a test can
// count what the server saw. It exits when stdin closes (its parent went away) or on SIGTERM.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const DEFAULT_SCOPES = 'create:meter_types read:meter_types update:meter_types delete:meter_types '
  + 'create:meters read:meters delete:meters';

function fail(message) {
  process.stderr.write(`oidc-server: ${message}\n`);
  process.exit(2);
}

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

function positiveInteger(text, what) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) fail(`${what} must be a positive integer, not ${JSON.stringify(text)}`);
  return value;
}

function readSettings() {
  const portText = process.argv[2] ?? process.env.OIDC_PORT ?? '0';
  const port = Number(portText);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) fail(`bad port ${JSON.stringify(portText)}`);
  const resource = required('OIDC_RESOURCE');
  if (!URL.canParse(resource)) fail('OIDC_RESOURCE must be an absolute URL');
  return {
    port,
    clientId: required('OIDC_CLIENT_ID'),
    clientSecret: required('OIDC_CLIENT_SECRET'),
    resource,
    scopes: (process.env.OIDC_SCOPES || DEFAULT_SCOPES).split(/\s+/).filter(Boolean).join(' '),
    ttl: positiveInteger(process.env.OIDC_ACCESS_TOKEN_TTL || '3600', 'OIDC_ACCESS_TOKEN_TTL'),
    accountId: process.env.OIDC_ACCOUNT_ID || undefined,
  };
}

// A fresh RSA key per run: nothing secret is stored, and the tests must fetch the JWKS anyway.
function signingKeys() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: `interop-${crypto.randomUUID()}`, use: 'sig', alg: 'RS256' }] };
}

// oidc-provider takes the target of a token from the RFC 8707 `resource` parameter; Auth0 (and so
// Usage Engine, and ue-magic) send `audience` instead. `defaultResource` is oidc-provider's own hook
// for "the request named no resource", so answering it with the form's `audience` maps one to the
// other without rewriting requests; a request that does send `resource` is handled as usual.
// Like Auth0 without a default audience, a request that names neither is refused: ue-magic must
// send the audience on every token request, renewals included.
async function audienceAsResource(ctx) {
  const audience = ctx.oidc?.body?.audience;
  if (typeof audience === 'string' || Array.isArray(audience)) return audience;
  throw new errors.InvalidTarget('the audience parameter is required');
}

function configuration(settings) {
  return {
    clients: [{
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: signingKeys(),
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: audienceAsResource,
        getResourceServerInfo: async (ctx, resourceIndicator) => {
          if (resourceIndicator !== settings.resource) throw new errors.InvalidTarget();
          return {
            scope: settings.scopes,
            audience: settings.resource,
            accessTokenTTL: settings.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? settings.ttl,
    },
    extraTokenClaims: async () => (settings.accountId ? { accountId: settings.accountId } : undefined),
  };
}

function logEvent(event) {
  process.stderr.write(`${JSON.stringify(event)}\n`);
}

function main() {
  // oidc-provider 9 asks for Node 22 but runs on Node 20 from 20.18 on, where the newest APIs it
  // uses (URL.parse, crypto.hash) exist; say so plainly instead of failing on the first request.
  if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
    fail(`Node ${process.version} is too old for oidc-provider 9: use Node 20.18 or later`);
  }
  const settings = readSettings();
  const server = http.createServer();

  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();

  server.listen(settings.port, HOST, () => {
    const { port } = server.address();
    const issuer = `http://${HOST}:${port}`;
    const provider = new Provider(issuer, configuration(settings));
    provider.on('grant.success', (ctx) => {
      logEvent({ event: 'token', client_id: ctx.oidc.client?.clientId, grant_type: ctx.oidc.params?.grant_type });
    });
    provider.on('grant.error', (ctx, error) => {
      logEvent({ event: 'token_error', client_id: ctx.oidc.client?.clientId, error: error.error });
    });
    provider.on('server_error', (ctx, error) => {
      logEvent({ event: 'server_error', message: String(error?.stack ?? error) });
    });
    server.on('request', provider.callback());
    process.stdout.write(`${JSON.stringify({
      issuer,
      port,
      token_endpoint: provider.urlFor('token'),
      jwks_uri: provider.urlFor('jwks'),
    })}\n`);
  });
  server.on('error', (error) => fail(`cannot listen on ${HOST}:${settings.port}: ${error.message}`));
}

main();
