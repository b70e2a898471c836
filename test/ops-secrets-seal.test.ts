// The BYOK sealing format: AES-256-GCM round trip, key ids, and what must fail to open.
import t from 'tap';
import { createSecretBox, masterKeyId, parseMasterKey, MasterKeyError } from '../proxy/secrets.js';

const HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

t.test('master keys: 64 hex or base64 of 32 bytes, nothing else', async (t) => {
  const fromHex = parseMasterKey(HEX);
  t.equal(fromHex.length, 32);
  t.same(parseMasterKey(fromHex.toString('base64')), fromHex);
  t.same(parseMasterKey(fromHex.toString('base64url')), fromHex);
  t.throws(() => parseMasterKey('too-short'), MasterKeyError);
  t.throws(() => parseMasterKey(Buffer.alloc(16).toString('base64')), MasterKeyError);
  t.throws(() => parseMasterKey(HEX.slice(2)), MasterKeyError);
  t.equal(masterKeyId(fromHex).length, 11, '8 bytes, base64url');
});

t.test('seal/open round trip, bound to its account and provider', async (t) => {
  const box = createSecretBox(HEX);
  const sealed = box.seal('sk-secret', 'acme/openai');
  const parts = sealed.split('.');
  t.equal(parts.length, 5);
  t.equal(parts[0], 'v1');
  t.equal(parts[1], box.kid);
  t.notOk(sealed.includes('sk-secret'));
  t.not(box.seal('sk-secret', 'acme/openai'), sealed, 'a fresh IV each time');
  t.same(box.open(sealed, 'acme/openai'), { plaintext: 'sk-secret', stale: false });
  t.throws(() => box.open(sealed, 'other/openai'), /failed authentication/, 'moved to another account');
  t.throws(() => box.open(sealed, 'acme/anthropic'), /failed authentication/, 'moved to another provider');
  const ct = Buffer.from(parts[4]!, 'base64url');
  ct[0]! ^= 1;
  t.throws(() => box.open([...parts.slice(0, 4), ct.toString('base64url')].join('.'), 'acme/openai'), /failed authentication/, 'tampered');
  t.throws(() => box.open('plain', 'acme/openai'), /not a sealed/);
});

t.test('previous keys open old values and flag them stale; unknown key ids are named', async (t) => {
  const old = createSecretBox(HEX);
  const sealed = old.seal('sk-1', 'a/openai');
  const rotated = createSecretBox(Buffer.alloc(32, 9).toString('base64'), [HEX]);
  t.same(rotated.open(sealed, 'a/openai'), { plaintext: 'sk-1', stale: true });
  const dropped = createSecretBox(Buffer.alloc(32, 9).toString('base64'));
  t.throws(() => dropped.open(sealed, 'a/openai'), new RegExp(`master key ${old.kid}`));
});
