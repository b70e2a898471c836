import t from 'tap';
import { reportedAsrMs } from '../proxy/providers/fishaudio.js';

// Fish Audio's `duration`: milliseconds per its SDKs' types, seconds per its API docs.
t.test('the ASR duration is read in the unit that fits the segments, else the upload size', async (t) => {
  const segs = [{ text: 'a', start: 0, end: 59.74 }];
  t.equal(reportedAsrMs({ duration: 60_000, segments: segs }, undefined), 60_000, 'ms, as the SDKs say');
  t.equal(reportedAsrMs({ duration: 60.0, segments: segs }, undefined), 60_000, 'seconds, as the docs say');
  t.equal(reportedAsrMs({ duration: 1_500, segments: [] }, 48_000), 1_500, '48 kB in 1.5 s is audio; in 1,500 s it is not');
  t.equal(reportedAsrMs({ duration: 90.5, segments: [] }, 1_448_000), 90_500);
  t.equal(reportedAsrMs({ duration: 12 }, undefined), 12_000, 'nothing to go by: seconds, per the docs');
  t.equal(reportedAsrMs({ duration: 'x' }, 100), undefined);
});
