// One streamed turn through the `openai` npm client, for the failover tests (issue 15): the JUnit test kills the
// session's worker (kill -9) between two of these, or during one of them.
//
//   WARMROUTE_HTTP=... WARMROUTE_MODEL=... WARMROUTE_SESSION=... node openai-turn.mjs MESSAGE [--stall-after N]
//
// Generation settings come from WARMROUTE_MAX_TOKENS, WARMROUTE_SEED and WARMROUTE_TEMPERATURE. With --stall-after N
// the client stops reading after N pieces of the answer, prints {"stalled": true, "worker": ...} and reads on only
// when a line arrives on stdin (the test kills the worker in between: the client's slowness holds the answer back
// at the worker through flow control, so the worker is still generating when it dies). Prints the whole answer as
// the client saw it, with the final chunk's warmroute object, as one JSON line.
import OpenAI from 'openai';
import readline from 'node:readline';

const [message, flag, stallArg] = process.argv.slice(2);
const stallAfter = flag === '--stall-after' ? Number(stallArg) : -1;
const client = new OpenAI({ baseURL: `${process.env.WARMROUTE_HTTP}/v1`, apiKey: 'unused', maxRetries: 0,
  timeout: 180_000 });
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

const { data: stream, response } = await client.chat.completions.create({
  model: process.env.WARMROUTE_MODEL,
  messages: [{ role: 'user', content: message }],
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: Number(process.env.WARMROUTE_MAX_TOKENS ?? 64),
  temperature: Number(process.env.WARMROUTE_TEMPERATURE ?? 1),
  seed: Number(process.env.WARMROUTE_SEED ?? 1),
}, { headers: { 'x-session-id': process.env.WARMROUTE_SESSION } }).withResponse();
const worker = response.headers.get('x-warmroute-worker');

let text = '';
let pieces = 0;
let warmroute = null;
let usage = null;
let finish = null;
for await (const chunk of stream) {
  if (chunk.warmroute) warmroute = chunk.warmroute;
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.finish_reason) finish = choice.finish_reason;
    const piece = choice.delta?.content;
    if (piece) {
      text += piece;
      pieces++;
      if (pieces === stallAfter) {
        console.log(JSON.stringify({ stalled: true, worker, pieces }));
        await nextLine();
      }
    }
  }
}
lines.close();
console.log(JSON.stringify({ text, pieces, worker, finish, usage, warmroute }));
