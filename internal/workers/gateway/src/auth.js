// The auth middleware: API keys (Authorization: Bearer <key> or X-API-Key: <key>) and JWTs
// (Authorization: Bearer <jwt>), in mode optional or required, skipped on public paths.
//
// Header parsing, the 401 challenge and the WWW-Authenticate values come from Hono's
// bearerAuth; this module decides which credential a request carries and checks it.
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import { SmartRouter } from "hono/router/smart-router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { TrieRouter } from "hono/router/trie-router";
import { apiKeyRecords, matchApiKey, looksLikeJwt, verifyJwt } from "./credentials.js";
import { errorResponse } from "./respond.js";

export const API_KEY_HEADER = "X-API-Key";
// Longer credentials are refused before any parsing or hashing.
export const MAX_AUTHORIZATION_LENGTH = 8192;
export const MAX_API_KEY_LENGTH = 512;

export function authMiddleware(cfg) {
  const { auth } = cfg;
  const realm = cfg.name.replace(/[\\"]/g, "");
  const publicPaths = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] });
  for (const p of auth.publicPaths) publicPaths.add("ALL", p, true);
  const isPublic = (path) => auth.publicPaths.length > 0 && publicPaths.match("ALL", path)[0].length > 0;

  // A refusal with its challenge. Handed to bearerAuth as a Response, it is answered with this
  // status (bearerAuth would otherwise answer a malformed header with 400).
  const fail = (c, status, reason, challenge) => errorResponse(c, status, reason, { "WWW-Authenticate": challenge });
  const challenge = (error, description) =>
    error ? `Bearer realm="${realm}", error="${error}", error_description="${description.replace(/"/g, "'")}"` : `Bearer realm="${realm}"`;

  const verifyToken = (source) => async (token, c) => {
    const jwtFirst = auth.jwt && (looksLikeJwt(token) || !auth.apiKeys) && source === "authorization";
    if (jwtFirst) {
      const result = await verifyJwt(token, auth.jwt, c.env);
      if (result.ok) {
        c.set("identity", { method: "jwt", id: result.subject });
        return true;
      }
      if (result.status === 401) {
        c.set("authFailure", result.reason);
        return false;
      }
      const error = result.status === 403 ? challenge("insufficient_scope", result.reason) : undefined;
      throw new HTTPException(result.status, { res: errorResponse(c, result.status, result.reason, error ? { "WWW-Authenticate": error } : undefined) });
    }
    if (!auth.apiKeys) {
      c.set("authFailure", "API keys are not accepted here");
      return false;
    }
    const id = await matchApiKey(await apiKeyRecords(c.env.GATEWAY_API_KEYS), token);
    if (id === null) {
      c.set("authFailure", "API key is not valid");
      return false;
    }
    c.set("identity", { method: "api_key", id });
    return true;
  };

  const options = (source) => ({
    realm,
    verifyToken: verifyToken(source),
    noAuthenticationHeader: { message: (c) => fail(c, 401, "credentials are required", challenge()) },
    invalidAuthenticationHeader: {
      message: (c) => fail(c, 401, source === "authorization" ? "Authorization header is not a Bearer credential" : `${API_KEY_HEADER} header is malformed`, challenge("invalid_request", "malformed credential")),
    },
    invalidToken: { message: (c) => fail(c, 401, c.get("authFailure") || "credential is not valid", challenge("invalid_token", c.get("authFailure") || "credential is not valid")) },
  });
  const checkAuthorization = bearerAuth(options("authorization"));
  const checkApiKey = bearerAuth({ ...options("x-api-key"), headerName: API_KEY_HEADER, prefix: "" });

  return async function auth_(c, next) {
    c.set("identity", null);
    if (isPublic(c.get("path").path)) return next();
    const headers = c.req.raw.headers;
    const authorization = headers.get("authorization");
    const apiKey = headers.get(API_KEY_HEADER);
    if (authorization !== null && apiKey !== null) return fail(c, 401, `send one credential: Authorization or ${API_KEY_HEADER}, not both`, challenge("invalid_request", "more than one credential"));
    if (authorization === null && apiKey === null) {
      if (auth.mode === "optional") return next();
      return fail(c, 401, "credentials are required", challenge());
    }
    if ((authorization ?? "").length > MAX_AUTHORIZATION_LENGTH || (apiKey ?? "").length > MAX_API_KEY_LENGTH) {
      return fail(c, 401, "credential is too long", challenge("invalid_request", "credential is too long"));
    }
    return authorization !== null ? checkAuthorization(c, next) : checkApiKey(c, next);
  };
}
