import { DurableObject } from "cloudflare:workers";

// Counter keeps one number per name in SQLite-backed Durable Object storage.
export class Counter extends DurableObject {
  async increment() {
    const next = ((await this.ctx.storage.get("count")) ?? 0) + 1;
    await this.ctx.storage.put("count", next);
    return next;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/greeting":
        // Written through the API (or by this Worker): KV is shared with Terraform's side.
        return new Response((await env.SETTINGS.get("greeting")) ?? "hello from back");
      case "/visits": {
        const counter = env.COUNTER.get(env.COUNTER.idFromName("visits"));
        return Response.json({ visits: await counter.increment() });
      }
      case "/notes":
        if (request.method === "PUT") {
          const name = url.searchParams.get("name") ?? "note.txt";
          await env.NOTES.put(name, await request.text());
          return new Response(`stored ${name}\n`, { status: 201 });
        }
        return Response.json({ notes: (await env.NOTES.list()).objects.map((o) => o.key) });
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};
