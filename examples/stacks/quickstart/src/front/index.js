// The public service: it answers with what the back service says, through a service binding.
export default {
  async fetch(request, env) {
    const greeting = await (await env.BACK.fetch("https://back/greeting")).text();
    const { visits } = await (await env.BACK.fetch("https://back/visits")).json();
    return Response.json({ service: "front", greeting, visits, version: env.VERSION });
  },
};
