// The audio metering API, one import for providers and realtime endpoints: seconds of audio
// measured from bytes as they stream past (containers via music-metadata: audio-container.ts;
// raw PCM: audio-pcm.ts; which one: audio-duration.ts), multipart uploads (audio-multipart.ts)
// and the STT reservation bound (audio-reserve.ts). Nothing here holds a whole file.

export type { AudioDuration, AudioDurationOptions, AudioMeasure, PcmFormat } from './audio-types.js';
export { MAX_PARSER_LAG_BYTES, warmAudioParsers } from './audio-container.js';
export { createAudioDuration } from './audio-duration.js';
export { pcmFromContentType, pcmFromEncoding, pcmMs } from './audio-pcm.js';
export { createMultipartAudioMeter, type MultipartAudioMeasure, type MultipartAudioMeter, type MultipartAudioOptions } from './audio-multipart.js';
export { sttReserveMs } from './audio-reserve.js';
