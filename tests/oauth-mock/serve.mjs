// An independent OAuth 2 authorization server for Switchboard's OAuth journey test:
// oauth2-mock-server on 127.0.0.1 with an OS-chosen port. Prints `listening PORT` once ready.
//
// Adjustments, each what a real provider does:
// - the authorization response carries `iss` (RFC 9207); the line `wrong-iss` on stdin makes
//   the next ones name another issuer (a mix-up attack), `right-iss` turns that off again;
// - the token response's `scope` is the scope requested at the consent step (the mock would
//   otherwise echo the token request's `scope`, or `dummy`); refresh responses leave it out;
// - access tokens live 30 s, so the gateway refreshes on the next use.
import { createInterface } from 'node:readline';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const issuer = `http://127.0.0.1:${server.address().port}`;
server.issuer.url = issuer;

let wrongIss = false;
createInterface({ input: process.stdin }).on('line', (line) => {
  wrongIss = line.trim() === 'wrong-iss' ? true : line.trim() === 'right-iss' ? false : wrongIss;
  console.log(`ok ${line.trim()}`);
});

const scopes = new Map();
server.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const asked = new URL(req.url, issuer).searchParams.get('scope') ?? '';
  const code = redirect.url.searchParams.get('code');
  if (code) scopes.set(code, asked);
  redirect.url.searchParams.set('iss', wrongIss ? 'http://127.0.0.1:9/another-server' : issuer);
});
server.service.on('beforeResponse', (response, req) => {
  const body = req.body ?? {};
  if (body.grant_type === 'authorization_code' && scopes.has(body.code)) {
    response.body.scope = scopes.get(body.code);
    scopes.delete(body.code);
  } else if (body.grant_type === 'refresh_token') {
    delete response.body.scope;
  }
  response.body.expires_in = 30;
});

console.log(`listening ${server.address().port}`);
process.on('SIGTERM', async () => {
  await server.stop();
  process.exit(0);
});
