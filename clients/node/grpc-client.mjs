// A gRPC client we did not write (@grpc/grpc-js, the .proto files loaded at run time by @grpc/proto-loader) against
// a running warmroute router or worker (issue 15): the standard health check, the reflection listing, a streamed
// turn, and an error with its status code and our message.
//
//   WARMROUTE_TARGET=127.0.0.1:7000 WARMROUTE_PROTO=../../proto/src/main/proto WARMROUTE_SESSION=<id> node grpc-client.mjs
//
// Prints one JSON object per step; exits 1 on the first failed check.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const target = process.env.WARMROUTE_TARGET;
const protoRoot = process.env.WARMROUTE_PROTO;
const session = process.env.WARMROUTE_SESSION;
assert.ok(target && protoRoot && session, 'WARMROUTE_TARGET, WARMROUTE_PROTO and WARMROUTE_SESSION are required');
const report = (step, value) => console.log(JSON.stringify({ step, ...value }));
const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const deadline = (s) => ({ deadline: Date.now() + s * 1000 });

// The health and reflection protos as their npm packages ship them (the standard ones, not ours).
const healthProto = path.join(path.dirname(require.resolve('grpc-health-check/package.json')), 'proto/health/v1/health.proto');
const reflectionProto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')),
  'build/proto/grpc/reflection/v1/reflection.proto');
const load = (file, includeDirs = []) => grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...options, includeDirs }));

const credentials = grpc.credentials.createInsecure();
const health = new (load(healthProto).grpc.health.v1.Health)(target, credentials);
const reflection = new (load(reflectionProto).grpc.reflection.v1.ServerReflection)(target, credentials);
const warmroute = load('warmroute/v1/chat.proto', [protoRoot]).warmroute.v1;
const chat = new warmroute.ChatService(target, credentials);
const unary = (client, method, request) => new Promise((resolve, reject) =>
  client[method](request, deadline(20), (err, res) => (err ? reject(err) : resolve(res))));

// 1. Health: the server and ChatService are SERVING.
for (const service of ['', 'warmroute.v1.ChatService']) {
  const res = await unary(health, 'Check', { service });
  assert.equal(res.status, 'SERVING', `health of '${service}'`);
  report('health', { service, status: res.status });
}

// 2. Reflection lists the services, without our .proto files.
const services = await new Promise((resolve, reject) => {
  const call = reflection.ServerReflectionInfo(deadline(20));
  call.on('data', (res) => {
    resolve(res.list_services_response.service.map((s) => s.name));
    call.end();
  });
  call.on('error', reject);
  call.write({ host: '', list_services: '' });
});
assert.ok(services.includes('warmroute.v1.ChatService'), `reflection lists ${services}`);
assert.ok(services.includes('grpc.health.v1.Health'), `reflection lists ${services}`);
report('reflection', { services });

// 3. A streamed turn: TurnStarted, deltas, TurnComplete.
const created = await unary(chat, 'CreateSession', { session_id: session, allow_existing: true });
assert.equal(created.session_id, session);
const events = await new Promise((resolve, reject) => {
  const seen = [];
  const call = chat.SendMessage({ session_id: session, message: { role: 'ROLE_USER', content: 'Once upon a time' },
    sampling: { max_tokens: 12, temperature: 0 } }, deadline(60));
  call.on('data', (e) => seen.push(e));
  call.on('error', reject);
  call.on('end', () => resolve(seen));
});
assert.equal(events[0].event, 'started');
assert.equal(events.at(-1).event, 'complete');
const text = events.filter((e) => e.event === 'delta').map((e) => e.delta.text).join('');
const complete = events.at(-1).complete;
assert.equal(text, complete.text, 'the deltas add up to the answer');
report('turn', { events: events.length, text, worker: complete.worker_id, cache: complete.cache.status,
  generated: complete.usage.generated_tokens });

// 4. An error with its status: an unknown session is NOT_FOUND with our message; a bad field INVALID_ARGUMENT.
async function failure(request) {
  return new Promise((resolve, reject) => {
    const call = chat.SendMessage(request, deadline(20));
    call.on('data', () => reject(new Error(`accepted: ${JSON.stringify(request)}`)));
    call.on('error', (e) => resolve({ code: grpc.status[e.code], details: e.details }));
    call.on('end', () => reject(new Error('ended without an error')));
  });
}
const missing = await failure({ session_id: `${session}-missing`, message: { role: 'ROLE_USER', content: 'Hi' } });
assert.equal(missing.code, 'NOT_FOUND');
report('not-found', missing);
const invalid = await failure({ session_id: session, message: { role: 'ROLE_USER', content: 'Hi' },
  sampling: { temperature: 7 } });
assert.equal(invalid.code, 'INVALID_ARGUMENT');
report('invalid', invalid);
for (const c of [health, reflection, chat]) c.close();
