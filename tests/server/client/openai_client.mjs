// openai_client.mjs — the official `openai` package against `smcgen serve`:
// a chat completion whose response_format JSON Schema must be obeyed (the
// content is parsed and checked against the schema), a streamed chat
// completion whose deltas must add up to the final text, and a completion
// with a regex and an smc object, and a chat written by a named chat template.
// Usage: node openai_client.mjs BASE_URL KEY
import OpenAI from "openai";

const [base, key] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base, apiKey: key || "none", maxRetries: 0, timeout: 120000 });
let failed = 0;
const check = (cond, what) => {
  if (!cond) { console.log("FAIL:", what); failed = 1; }
};

// 1. response_format with a JSON Schema: the content parses and validates.
const schema = {
  type: "object",
  properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer", minimum: 0, maximum: 120 } },
  required: ["name", "age"],
  additionalProperties: false,
};
const chat = await client.chat.completions.create({
  model: "default",
  messages: [{ role: "user", content: "Describe a person as JSON." }],
  response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema } },
  max_tokens: 48,
  seed: 3,
  smc: { particles: 4 },
});
const content = chat.choices[0].message.content;
let obj = null;
try { obj = JSON.parse(content); } catch (e) { check(false, `content is not JSON: ${JSON.stringify(content)}`); }
if (obj) {
  check(Object.keys(obj).sort().join(",") === "age,name", `keys of ${content}`);
  check(typeof obj.name === "string" && [...obj.name].length <= 12, `name of ${content}`);
  check(Number.isInteger(obj.age) && obj.age >= 0 && obj.age <= 120, `age of ${content}`);
}
check(chat.object === "chat.completion" && chat.choices[0].message.role === "assistant", "chat shape");
check(chat.smc && chat.smc.method === "smc" && chat.smc.particles === 4, "smc object");
check(Math.abs(chat.choices[0].posterior_probability - chat.smc.posterior[0].prob) < 1e-12, "posterior probability");
console.log("json_schema chat:", content);

// 2. Streaming: the deltas add up to the final choice; stream_options.include_usage
// adds a last chunk with the usage.
const stream = await client.chat.completions.create({
  model: "default",
  messages: [{ role: "user", content: "A phone number:" }],
  regex: "[0-9]{3}-[0-9]{4}",
  max_tokens: 16,
  stream: true,
  stream_options: { include_usage: true },
  smc: { particles: 4, method: "smc" },
});
let text = "", chunks = 0, last = null, usage = null;
for await (const chunk of stream) {
  chunks++;
  text += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.choices.length) last = chunk;
  else usage = chunk.usage;   // include_usage: a last chunk without choices
}
check(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0 &&
      usage.prompt_tokens_details.cached_tokens === 0, `usage chunk ${JSON.stringify(usage)}`);
check(/^[0-9]{3}-[0-9]{4}$/.test(text), `streamed text ${JSON.stringify(text)} matches the regex`);
check(last && last.choices[0].finish_reason === "stop" && last.smc && last.smc.posterior[0].text === text,
      "the final chunk carries the posterior, whose top string is the streamed text");
console.log(`stream: ${chunks} chunks -> ${text}`);

// 3. A plain completion with a regex and n choices.
const comp = await client.completions.create({
  model: "default",
  prompt: "Colour: ",
  regex: "(red|green|blue)",
  n: 3,
  max_tokens: 8,
  smc: { particles: 6 },
});
check(comp.choices.length >= 1 && comp.choices.length <= 3, "n choices");
for (const c of comp.choices) check(/^(red|green|blue)$/.test(c.text), `choice ${c.text}`);
const total = comp.choices.reduce((s, c) => s + c.posterior_probability, 0);
check(total <= 1 + 1e-9, "posterior probabilities sum to at most 1");
console.log("completion choices:", comp.choices.map((c) => `${c.text}:${c.posterior_probability.toFixed(3)}`).join(" "));

// 4. Errors come back as the client's typed errors with the server's message.
try {
  await client.completions.create({ model: "default", prompt: "x", smc: { method: "beam" } });
  check(false, "an unknown method is refused");
} catch (e) {
  check(e.status === 400 && /smc.method: unknown value 'beam'/.test(e.message), `error: ${e.status} ${e.message}`);
}
// 5. A chat written by a named chat template: the prompt the server counted is the
// ChatML text, tokenized by the server's own /tokenize; usage reports the cached tokens.
const chatml = "<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n";
const tok = await fetch(base.replace(/\/v1$/, "") + "/tokenize", {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
  body: JSON.stringify({ content: chatml, add_special: true }),
}).then((r) => r.json());
const templated = await client.chat.completions.create({
  model: "default",
  messages: [{ role: "user", content: "Name a colour." }],
  chat_template: "chatml",
  regex: "(red|green|blue)",
  max_tokens: 8,
  smc: { particles: 3 },
});
check(templated.usage.prompt_tokens === tok.tokens.length,
      `chatml prompt tokens ${templated.usage.prompt_tokens} = ${tok.tokens.length}`);
check(templated.usage.prompt_tokens_details && templated.usage.prompt_tokens_details.cached_tokens === 0,
      "usage.prompt_tokens_details.cached_tokens (no prompt cache on this server)");
check(/^(red|green|blue)$/.test(templated.choices[0].message.content), "templated chat obeys the regex");
console.log("chatml chat:", templated.choices[0].message.content, `(${templated.usage.prompt_tokens} prompt tokens)`);
process.exit(failed);
