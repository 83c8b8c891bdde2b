// view_test.mjs — opens a page written by `smcgen view` in headless Chromium
// (Debian's /usr/bin/chromium, driven by playwright-core) and checks it
// against the trace it came from, replayed here independently of the page:
// one row per particle, one mark per resampling, one row per death and per
// posterior string; clicking tree nodes (final and mid-run) shows exactly
// the text their lineage spells; hovering shows a tooltip; no console
// error, no page error, and nothing fetched over the network.
//   node view_test.mjs PAGE.html TRACE.json [SCREENSHOT.png]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve(process.env.SMCGEN_VIEW_NODE || process.cwd(), 'x.js'));
const { chromium } = require('playwright-core');

const [htmlPath, tracePath, shot] = process.argv.slice(2);
const trace = JSON.parse(readFileSync(tracePath, 'utf8'));
const N = trace.config.particles, S = trace.steps.length;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

// The trace's genealogy, replayed: bytes of slot i after step c.
const enc = new TextEncoder(), dec = new TextDecoder();
const textAt = [];            // textAt[c][i]
let cur = Array.from({ length: N }, () => new Uint8Array(0));
textAt.push(cur.map((b) => dec.decode(b)));
let resamplings = 0, deaths = 0;
for (const st of trace.steps) {
  const next = cur.slice();
  for (const e of st.particles) {
    const piece = e.hex ? Uint8Array.from(e.hex.split(' '), (h) => parseInt(h, 16)) : enc.encode(e.text);
    const b = new Uint8Array(next[e.i].length + piece.length);
    b.set(next[e.i]); b.set(piece, next[e.i].length);
    next[e.i] = b;
    if (e.death) deaths++;
  }
  textAt.push(next.map((b) => dec.decode(b)));
  cur = st.resample ? st.resample.parents.map((j) => next[j]) : next;
  if (st.resample) resamplings++;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  page.setDefaultTimeout(120000);   // hang detection only: a loaded machine renders slowly
  const errors = [], fetched = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.type() + ': ' + m.text()); });
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) fetched.push(r.url()); });
  const t0 = Date.now();
  await page.goto('file://' + path.resolve(htmlPath));
  await page.waitForFunction(() => window.smcgenView !== undefined);
  const loadMs = Date.now() - t0;

  // Counts.
  const count = (sel) => page.locator(sel).count();
  check(await count('.particle-row') === N, `particle rows: ${await count('.particle-row')} != ${N}`);
  check(await count('#ess-chart .resample-mark') === resamplings,
        `resampling marks: ${await count('#ess-chart .resample-mark')} != ${resamplings}`);
  check((await page.locator('#fact-resamples b').textContent()) === String(resamplings), 'resamplings fact');
  check((await page.locator('#fact-particles b').textContent()) === String(N), 'particles fact');
  check(await count('.death-row') === deaths, `death rows: ${await count('.death-row')} != ${deaths}`);
  const nPost = trace.result ? trace.result.posterior.length : 0;
  check(await count('.posterior-row') === nPost, `posterior rows: ${await count('.posterior-row')} != ${nPost}`);

  // Click tree nodes: the last step of three slots and a node mid-run.
  const clickNode = async (c, i) => {
    await page.evaluate(([c, i]) => window.smcgenView.scrollToNode(c, i), [c, i]);
    const p = await page.evaluate(([c, i]) => window.smcgenView.nodeCenter(c, i), [c, i]);
    await page.mouse.click(p.x, p.y);
    return page.locator('#detail-text').textContent();
  };
  const targets = [[S, 0], [S, N - 1], [S, Math.floor(N / 2)], [Math.max(1, Math.floor(S / 2)), Math.floor(N / 3)]];
  let clicked = 0;
  for (const [c, i] of targets.filter(([c]) => c <= S)) {
    const shown = await clickNode(c, i);
    check(shown === textAt[c][i], `node (step ${c}, slot ${i}) shows ${JSON.stringify(shown)}, expected ${JSON.stringify(textAt[c][i])}`);
    if (c === S && trace.result)
      check(shown === trace.result.particle_list[i].text, `final slot ${i} differs from the result's text`);
    clicked++;
  }
  // Hover shows a tooltip with the node's text.
  const p = await page.evaluate(() => window.smcgenView.nodeCenter(window.smcgenView.steps, 0));
  await page.mouse.move(p.x, p.y);
  const tip = page.locator('#tip');
  check(await tip.isVisible(), 'no tooltip on hover');
  check((await tip.locator('pre').textContent()).endsWith(textAt[S][0].slice(-300)), 'tooltip text');
  // A row of the particle table selects its particle.
  await page.mouse.move(0, 0);
  await page.locator('.particle-row').nth(N - 1).click();
  check((await page.locator('#detail-text').textContent()) === textAt[S][N - 1], 'particle row click');
  if (deaths) {
    await page.locator('.death-row').first().click();
    check((await page.locator('#detail').textContent()).includes('died'), 'death row shows the death');
  }
  check((await page.title()) === 'smcgen trace', 'page title changed: ' + (await page.title()));
  if (shot) await page.screenshot({ path: shot, fullPage: false });
  check(errors.length === 0, 'console: ' + errors.join(' | '));
  check(fetched.length === 0, 'fetched: ' + fetched.join(' '));
  console.log(`view ok: ${N} particles, ${S} steps, ${resamplings} resamplings, ${deaths} deaths, ` +
              `${nPost} posterior strings, ${clicked} nodes clicked; loaded in ${loadMs} ms`);
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
