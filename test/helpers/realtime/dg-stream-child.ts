// Test helper (a child process): opens a Deepgram live socket through tollgate with
// @deepgram/sdk, streams SECONDS of 16 kHz linear16 mono, prints "sent", then idles until
// killed (the parent kills it with SIGKILL mid-session).
// argv: wsBase key seconds

import { DeepgramClient } from '@deepgram/sdk';
import { sinePcm } from './deepgram.js';

const [wsBase, key, seconds] = process.argv.slice(2) as [string, string, string];
const client = new DeepgramClient({ apiKey: key, baseUrl: `${wsBase}/deepgram` });
const socket = await client.listen.v1.connect({ model: 'nova-3', encoding: 'linear16', sample_rate: 16000, channels: 1, Authorization: '', reconnectAttempts: 0 });
socket.connect();
await socket.waitForOpen();
const audio = sinePcm(Number(seconds));
for (let i = 0; i < audio.length; i += 3_200) socket.sendMedia(audio.subarray(i, i + 3_200));
process.stdout.write('sent\n');
setInterval(() => {}, 60_000);
