// The real `openai` npm client against warmroute's OpenAI-compatible HTTP front (issue 15, "Must show"):
// a streamed chat in a named session, a second call with only the new message that continues the same session warm
// (usage says cached tokens), a stateless call, and a bad request that gets OpenAI's error object with our message.
//
//   WARMROUTE_HTTP=http://127.0.0.1:8000 WARMROUTE_MODEL=<id> WARMROUTE_SESSION=<id> node openai-front.mjs
//
// Prints one JSON object per step on stdout (the JUnit test reads them); exits 1 on the first failed check.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const base = process.env.WARMROUTE_HTTP;
const model = process.env.WARMROUTE_MODEL;
const session = process.env.WARMROUTE_SESSION;
assert.ok(base && model && session, 'WARMROUTE_HTTP, WARMROUTE_MODEL and WARMROUTE_SESSION are required');

// No key is checked yet (the gRPC side has no authentication); the client insists on one.
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
const inSession = { headers: { 'x-session-id': session } };
const report = (step, value) => console.log(JSON.stringify({ step, ...value }));

// 1. A streamed chat: system prompt + first user message, usage in the last chunk.
const stream = await client.chat.completions.create({
  model,
  messages: [
    { role: 'system', content: 'You are a storyteller.' },
    { role: 'user', content: 'Once upon a time there was a cat.' },
  ],
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 24,
  temperature: 0,
}, inSession);
let text = '';
let chunks = 0;
let usage = null;
let finish = null;
let warmroute = null;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    text += choice.delta?.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  if (chunk.warmroute) warmroute = chunk.warmroute;
}
assert.ok(text.length > 0, 'the streamed answer is empty');
assert.ok(chunks >= 3, `expected several chunks, got ${chunks}`);
assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, `no usage: ${JSON.stringify(usage)}`);
assert.equal(warmroute?.session_id, session);
report('streamed', { text, chunks, finish, usage, warmroute });

// 2. Only the new message: the server keeps the history, the worker's cache is warm.
const second = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'What did the cat do next?' }],
  max_tokens: 16,
  temperature: 0,
}, inSession);
assert.equal(second.object, 'chat.completion');
assert.ok(second.choices[0].message.content.length > 0, 'the second answer is empty');
assert.ok(second.usage.prompt_tokens_details.cached_tokens > 0,
  `the second call reused no cached tokens: ${JSON.stringify(second.usage)}`);
assert.ok(second.usage.prompt_tokens > usage.prompt_tokens, 'the second prompt does not hold the first turn');
assert.equal(second.warmroute.turn_index, 1);
report('continued', { text: second.choices[0].message.content, usage: second.usage, warmroute: second.warmroute });

// 3. The whole conversation again, as stateless clients send it: accepted, checked against the stored history.
const full = await client.chat.completions.create({
  model,
  messages: [
    { role: 'system', content: 'You are a storyteller.' },
    { role: 'user', content: 'Once upon a time there was a cat.' },
    { role: 'assistant', content: text },
    { role: 'user', content: 'What did the cat do next?' },
    { role: 'assistant', content: second.choices[0].message.content },
    { role: 'user', content: 'And then?' },
  ],
  max_tokens: 8,
  temperature: 0,
}, inSession);
assert.equal(full.warmroute.turn_index, 2);
report('full-history', { usage: full.usage, warmroute: full.warmroute });

// 4. A stateless call: no session named; a one-turn session, removed after.
const stateless = await client.chat.completions.create({
  model,
  messages: [{ role: 'user', content: 'Tell me about a dog.' }],
  max_tokens: 8,
});
assert.equal(stateless.warmroute.stateless, true);
assert.ok(stateless.choices[0].message.content.length > 0);
report('stateless', { text: stateless.choices[0].message.content, usage: stateless.usage,
  warmroute: stateless.warmroute });

// 5. Bad requests: OpenAI's error object, our message naming the field and the limit.
async function failure(body, options) {
  try {
    await client.chat.completions.create(body, options);
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, `not an APIError: ${e}`);
    return { status: e.status, type: e.type, param: e.param, code: e.code, message: e.message,
      error: e.error };
  }
  assert.fail(`accepted: ${JSON.stringify(body)}`);
}
report('bad-temperature', await failure({ model, messages: [{ role: 'user', content: 'Hi' }], temperature: 5 }));
report('bad-history', await failure({
  model,
  messages: [
    { role: 'user', content: 'Once upon a time there was a dog.' },
    { role: 'assistant', content: 'not what was said' },
    { role: 'user', content: 'Go on.' },
  ],
}, inSession));
report('unknown-model', await failure({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }));

// 6. The model list.
const models = await client.models.list();
report('models', { ids: models.data.map((m) => m.id) });
