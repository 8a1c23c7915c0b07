// The gateway's own responses: JSON {error, request_id}, so a client can quote the id.
export function errorResponse(c, status, message, headers) {
  return c.json({ error: message, request_id: c.get("requestId") ?? null }, status, headers);
}
