/* trace_view.js — the interactive part of `smcgen view` pages: rebuilds the
 * genealogy of an smcgen trace (docs/trace.md) and draws it on a canvas
 * (lineage width and colour by normalised weight, deaths, EOS, resampling),
 * the ESS and log-weight curves (SVG), the posterior, final particles and
 * deaths tables, and a panel with the selected particle's text and lineage.
 * Model text is untrusted: it only ever goes into textContent. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var T = JSON.parse($('trace-data').textContent);
  var cfg = T.config, steps = T.steps, res = T.result, info = T.info || {};
  var N = cfg.particles, S = steps.length;
  var NEG = -Infinity;
  var enc = new TextEncoder(), dec = new TextDecoder('utf-8');
  function lw(x) { return x === null || x === undefined ? NEG : x; }
  function fmt(x, d) {
    if (x === null || x === undefined || x === NEG) return '-inf';
    return Number(x).toFixed(d === undefined ? 3 : d);
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function sv(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function hexBytes(h) {
    var p = h.split(' '), b = new Uint8Array(p.length);
    for (var k = 0; k < p.length; k++) b[k] = parseInt(p[k], 16);
    return b;
  }
  function logsumexp(xs) {
    var m = NEG;
    for (var k = 0; k < xs.length; k++) if (xs[k] > m) m = xs[k];
    if (m === NEG) return NEG;
    var s = 0;
    for (var k2 = 0; k2 < xs.length; k2++) s += Math.exp(xs[k2] - m);
    return m + Math.log(s);
  }

  /* ---- The genealogy: cols[c][i] is slot i after step c (c = 0: start). */
  var cols = [], resampledAt = [], deaths = [];
  var start = [];
  for (var i = 0; i < N; i++)
    start.push({c: 0, i: i, parent: null, piece: null, ev: null, logw: 0, done: false, dead: false, kids: 0});
  cols.push(start);
  var from = start, base = start.map(function () { return 0; });
  for (var s = 0; s < S; s++) {
    var st = steps[s], col = new Array(N);
    for (i = 0; i < N; i++) {
      var p = from[i];
      p.kids++;
      col[i] = {c: s + 1, i: i, parent: p, piece: null, ev: null, logw: base[i], done: p.done,
                dead: p.dead, why: p.dead ? p.why : null, kids: 0};
    }
    var evs = st.particles || [];
    for (var k = 0; k < evs.length; k++) {
      var e = evs[k], n = col[e.i];
      if (!n) continue;
      n.ev = e;
      n.piece = e.hex ? hexBytes(e.hex) : enc.encode(e.text || '');
      n.logw = lw(e.logw);
      if (e.eos || e.token < 0) n.done = true;
      if (e.death) {
        n.dead = n.done = true;
        n.why = e.death.by + ': ' + e.death.reason;
        deaths.push(n);
      }
    }
    var lws = col.map(function (x) { return x.logw; }), lse = logsumexp(lws);
    for (i = 0; i < N; i++) col[i].share = lse === NEG ? 0 : Math.exp(col[i].logw - lse);
    col.lse = lse;
    cols.push(col);
    if (st.resample && st.resample.parents && st.resample.parents.length === N) {
      resampledAt.push(s + 1);
      from = st.resample.parents.map(function (j) { return col[j]; });
      var rl = lw(st.resample.logw);
      base = from.map(function () { return rl; });
    } else {
      from = col;
      base = col.map(function (x) { return x.logw; });
    }
  }
  var last = cols[S];

  function bytesOf(n) {
    var parts = [], len = 0;
    for (var q = n; q; q = q.parent)
      if (q.piece && q.piece.length) { parts.push(q.piece); len += q.piece.length; }
    var out = new Uint8Array(len), off = 0;
    for (var k = parts.length - 1; k >= 0; k--) { out.set(parts[k], off); off += parts[k].length; }
    return out;
  }
  function textOf(n) { return dec.decode(bytesOf(n)); }
  function lineage(n) {
    var path = [];
    for (var q = n; q; q = q.parent) path.push(q);
    return path.reverse();
  }
  function status(n) {
    if (n.dead) return 'dead';
    if (n.done) return n.forced ? 'forced EOS' : 'finished';
    return 'running';
  }
  for (var c = 1; c <= S; c++)
    for (i = 0; i < N; i++) {
      var m = cols[c][i];
      m.forced = m.parent.forced || !!(m.ev && m.ev.forced_eos);
    }

  /* ---- Header */
  var nres = resampledAt.length;
  $('title-method').textContent = cfg.method + ' · ' + N + ' particles · ' + S + ' steps';
  function fact(id, label, value) {
    var f = el('span', {id: id});
    f.appendChild(document.createTextNode(label + ' '));
    f.appendChild(el('b', null, String(value)));
    $('facts').appendChild(f);
  }
  fact('fact-particles', 'particles', N);
  fact('fact-steps', 'steps', S);
  fact('fact-resamples', 'resamplings', nres);
  fact('fact-deaths', 'deaths', deaths.length);
  if (res) {
    fact('fact-logz', 'log Ẑ', fmt(res.log_z, 4));
    fact('fact-ess', 'final ESS', fmt(res.ess, 2));
    if (res.time_s) fact('fact-time', 'time', fmt(res.time_s.total, 2) + ' s');
  } else {
    fact('fact-failed', 'result', 'none: the run failed' + (info.error ? ' (' + info.error + ')' : ''));
  }
  fact('fact-constraint', 'constraint', cfg.constraint || 'none');
  fact('fact-critic', 'critic', cfg.critic || 'none');
  fact('fact-ess-thr', 'ESS threshold', cfg.ess_threshold);
  fact('fact-resample', 'resampling', cfg.resample);
  fact('fact-seed', 'seed', cfg.seed);
  fact('fact-max', 'max tokens', cfg.max_tokens);
  $('prompt').textContent = info.prompt !== undefined ? info.prompt : '(no prompt recorded)';
  var extra = [];
  for (var key in info) if (key !== 'prompt') extra.push(key + ': ' + info[key]);
  $('command').textContent = extra.join('\n');

  /* ---- Layout shared by the tree and the charts (one x per step). */
  var X0 = 44, Y0 = 12;
  var avail = ($('tree-scroll').clientWidth || 1100) - X0 - 26;
  var dx = Math.max(4, Math.min(28, Math.floor(avail / Math.max(S, 1))));
  if (S * dx > 30000) dx = 30000 / S;
  var dy = Math.max(7, Math.min(26, Math.floor(560 / Math.max(N, 1))));
  var W = X0 + S * dx + 24, H = 2 * Y0 + (N - 1) * dy + 18;
  function X(c) { return X0 + c * dx; }
  function Y(i) { return Y0 + i * dy; }

  /* ---- The tree, on a canvas. */
  var dpr = window.devicePixelRatio || 1;
  function setup(cv) {
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    cv.style.width = W + 'px'; cv.style.height = H + 'px';
    var g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return g;
  }
  var g = setup($('tree')), go = setup($('tree-over'));
  var BUCKETS = 8;
  function bucket(share) {   /* 0 light .. BUCKETS-1 heavy, by weight relative to 1/N */
    if (!(share > 0)) return 0;
    var t = (Math.log(share * N) + 4) / 5;
    return Math.max(0, Math.min(BUCKETS - 1, Math.floor(t * BUCKETS)));
  }
  function bucketColour(b) {
    var t = b / (BUCKETS - 1);
    var r = Math.round(184 + (8 - 184) * t), gg = Math.round(200 + (48 - 200) * t),
        bl = Math.round(216 + (107 - 216) * t);
    return 'rgb(' + r + ',' + gg + ',' + bl + ')';
  }
  function drawTree() {
    g.clearRect(0, 0, W, H);
    g.save();
    g.strokeStyle = 'rgba(232,89,12,.55)'; g.setLineDash([3, 3]); g.lineWidth = 1;
    resampledAt.forEach(function (c) {
      g.beginPath(); g.moveTo(X(c) + dx / 2, 2); g.lineTo(X(c) + dx / 2, H - 16); g.stroke();
    });
    g.restore();
    var paths = [], finished = new Path2D();
    for (var b = 0; b < BUCKETS; b++) paths.push(new Path2D());
    for (var c = 1; c <= S; c++)
      for (var i = 0; i < N; i++) {
        var n = cols[c][i], p = n.parent;
        if (p.dead) continue;
        var path = n.ev && !n.dead ? paths[bucket(n.share)] : n.ev ? paths[0] : finished;
        path.moveTo(X(c - 1), Y(p.i));
        path.lineTo(X(c), Y(i));
      }
    g.lineCap = 'round';
    g.setLineDash([2, 3]); g.strokeStyle = '#ced4da'; g.lineWidth = 1; g.stroke(finished);
    g.setLineDash([]);
    for (b = 0; b < BUCKETS; b++) {
      g.strokeStyle = bucketColour(b);
      g.lineWidth = 0.7 + (Math.min(3.3, dy * 0.42) - 0.7) * b / (BUCKETS - 1);
      g.stroke(paths[b]);
    }
    /* EOS dots and death crosses */
    for (c = 1; c <= S; c++)
      for (i = 0; i < N; i++) {
        n = cols[c][i];
        if (!n.ev) continue;
        var x = X(c), y = Y(i);
        if (n.dead) {
          var r = Math.min(4, dy / 2.2);
          g.strokeStyle = '#c92a2a'; g.lineWidth = 1.6;
          g.beginPath(); g.moveTo(x - r, y - r); g.lineTo(x + r, y + r);
          g.moveTo(x - r, y + r); g.lineTo(x + r, y - r); g.stroke();
        } else if (n.ev.eos) {
          g.fillStyle = n.ev.forced_eos ? '#f59f00' : '#2b8a3e';
          g.beginPath(); g.arc(x, y, Math.min(3.5, dy / 2.5), 0, 2 * Math.PI); g.fill();
        }
      }
    g.fillStyle = '#495057';
    g.fillRect(X(0) - 1.5, Y(0) - 3, 3, Math.max(6, Y(N - 1) - Y(0) + 6));
    g.font = '11px system-ui, sans-serif'; g.fillStyle = '#5b6570';
    g.textAlign = 'center';
    var every = Math.max(1, Math.ceil(40 / dx));
    every = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500].find(function (v) { return v >= every; }) || every;
    for (c = 0; c <= S; c += every) g.fillText(String(c), X(c), H - 4);
    g.textAlign = 'right';
    g.fillText('step', X0 - 10, H - 4);
  }
  drawTree();

  /* ---- Charts (SVG, same x as the tree). */
  function chart(svg, h, lo, hi, label, fmtTick) {
    svg.setAttribute('width', W); svg.setAttribute('height', h);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + h);
    var top = 14, bottom = h - 16;
    function Yv(v) { return hi === lo ? (top + bottom) / 2 : bottom - (v - lo) / (hi - lo) * (bottom - top); }
    svg.appendChild(sv('line', {x1: X0, x2: X(S), y1: bottom, y2: bottom, 'class': 'axis'}));
    svg.appendChild(sv('line', {x1: X0, x2: X0, y1: top, y2: bottom, 'class': 'axis'}));
    var t1 = sv('text', {x: 4, y: top + 4}); t1.textContent = fmtTick(hi); svg.appendChild(t1);
    var t2 = sv('text', {x: 4, y: bottom}); t2.textContent = fmtTick(lo); svg.appendChild(t2);
    var t3 = sv('text', {x: X0 + 6, y: 11}); t3.textContent = label; svg.appendChild(t3);
    return Yv;
  }
  function marks(svg, h, cls) {
    resampledAt.forEach(function (c) {
      var ln = sv('line', {x1: X(c) + dx / 2, x2: X(c) + dx / 2, y1: 14, y2: h - 16, 'class': cls,
                           'data-step': c});
      var tt = sv('title', {}); tt.textContent = 'step ' + c + ': resampled';
      ln.appendChild(tt);
      svg.appendChild(ln);
    });
  }
  (function essChart() {
    var svg = $('ess-chart'), h = 120;
    var Yv = chart(svg, h, 0, N, 'ESS (before resampling) · dashed: threshold · orange: resampling',
                   function (v) { return String(Math.round(v)); });
    marks(svg, h, 'resample-mark');
    if (cfg.method === 'smc' || cfg.method === 'smc-full')
      svg.appendChild(sv('line', {x1: X0, x2: X(S), y1: Yv(cfg.ess_threshold * N),
                                  y2: Yv(cfg.ess_threshold * N), 'class': 'thr-line'}));
    var pts = [];
    for (var s = 0; s < S; s++) pts.push(X(s + 1) + ',' + Yv(lw(steps[s].ess) === NEG ? 0 : steps[s].ess));
    if (pts.length) svg.appendChild(sv('polyline', {points: pts.join(' '), 'class': 'ess-line'}));
  })();
  (function lwChart() {
    var svg = $('lw-chart'), h = 170, lo = Infinity, hi = NEG;
    for (var c = 1; c <= S; c++)
      for (var i = 0; i < N; i++) {
        var v = cols[c][i].logw;
        if (v > NEG) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    if (hi === NEG) { lo = -1; hi = 0; }
    lo = Math.max(lo, hi - 60);
    var Yv = chart(svg, h, lo, hi, 'log-weights by slot (blue), log mean weight (black)',
                   function (v) { return v.toFixed(1); });
    marks(svg, h, 'resample-mark lw');
    for (i = 0; i < N; i++) {
      var d = '', pen = false;
      for (c = 1; c <= S; c++) {
        var x = cols[c][i].logw;
        if (x > NEG && x >= lo) { d += (pen ? 'L' : 'M') + X(c) + ' ' + Yv(x).toFixed(1); pen = true; }
        else pen = false;
      }
      if (d) svg.appendChild(sv('path', {d: d, 'class': 'lw-line'}));
    }
    var dz = '', penz = false;
    for (c = 1; c <= S; c++) {
      var z = cols[c].lse - Math.log(N);
      if (z > NEG && z >= lo) { dz += (penz ? 'L' : 'M') + X(c) + ' ' + Yv(z).toFixed(1); penz = true; }
      else penz = false;
    }
    if (dz) svg.appendChild(sv('path', {d: dz, 'class': 'lz-line'}));
    svg.appendChild(sv('path', {d: '', 'class': 'sel-line', id: 'lw-sel'}));
    svg._Y = Yv; svg._lo = lo;
  })();

  /* ---- Tooltip, selection, detail panel. */
  var tip = $('tip'), selected = null;
  function nodeAt(mx, my) {
    var c = Math.round((mx - X0) / dx), i = Math.round((my - Y0) / dy);
    if (c < 0 || c > S || i < 0 || i >= N) return null;
    return cols[c][i];
  }
  function tail(s, k) { return s.length > k ? '…' + s.slice(s.length - k) : s; }
  function describe(n) {
    var lines = ['step ' + n.c + ' · slot ' + n.i + ' · ' + status(n)];
    if (n.ev) {
      lines.push('token ' + n.ev.token + ' ' + JSON.stringify(n.ev.text) + ' · mass ' + fmt(n.ev.mass));
      if (n.ev.critic) lines.push('critic (' + n.ev.critic.mode + '): ' + fmt(n.ev.critic.score));
    } else if (n.c > 0) lines.push('no move (finished earlier)');
    lines.push('log w ' + fmt(n.logw) + (n.c > 0 ? ' · weight ' + (100 * (n.share || 0)).toFixed(1) + '%' : ''));
    if (n.dead && n.why) lines.push('died: ' + n.why);
    return lines;
  }
  var tree = $('tree');
  tree.addEventListener('mousemove', function (ev) {
    var r = tree.getBoundingClientRect(), n = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
    if (!n) { tip.style.display = 'none'; return; }
    tip.textContent = '';
    describe(n).forEach(function (l) { tip.appendChild(el('div', null, l)); });
    tip.appendChild(el('pre', null, tail(textOf(n), 400)));
    tip.style.display = 'block';
    var tx = ev.clientX + 14, ty = ev.clientY + 14;
    if (tx + 470 > window.innerWidth) tx = Math.max(4, ev.clientX - 474);
    if (ty + 240 > window.innerHeight) ty = Math.max(4, ev.clientY - 244);
    tip.style.left = tx + 'px'; tip.style.top = ty + 'px';
  });
  tree.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  tree.addEventListener('click', function (ev) {
    var r = tree.getBoundingClientRect(), n = nodeAt(ev.clientX - r.left, ev.clientY - r.top);
    if (n) select(n);
  });
  document.addEventListener('keydown', function (ev) {
    if (!selected) return;
    var n = null;
    if (ev.key === 'ArrowLeft') n = selected.parent;
    else if (ev.key === 'ArrowRight' && selected.c < S) {
      var nx = cols[selected.c + 1];
      for (var i = 0; i < N && !n; i++) if (nx[i].parent === selected) n = nx[i];
    } else if (ev.key === 'ArrowUp' && selected.i > 0) n = cols[selected.c][selected.i - 1];
    else if (ev.key === 'ArrowDown' && selected.i < N - 1) n = cols[selected.c][selected.i + 1];
    if (n) { select(n); ev.preventDefault(); }
  });

  function drawSelection(n) {
    go.clearRect(0, 0, W, H);
    var svg = $('lw-chart'), d = '';
    if (!n) { $('lw-sel').setAttribute('d', ''); return; }
    var path = lineage(n);
    go.strokeStyle = '#d9480f'; go.lineWidth = 2.6; go.lineCap = 'round';
    go.beginPath();
    for (var k = 1; k < path.length; k++) {
      go.moveTo(X(path[k - 1].c), Y(path[k - 1].i));
      go.lineTo(X(path[k].c), Y(path[k].i));
    }
    go.stroke();
    go.beginPath(); go.arc(X(n.c), Y(n.i), 5, 0, 2 * Math.PI); go.stroke();
    for (k = 1; k < path.length; k++) {
      var v = path[k].logw;
      if (v > NEG && v >= svg._lo) d += (d ? 'L' : 'M') + X(path[k].c) + ' ' + svg._Y(v).toFixed(1);
    }
    $('lw-sel').setAttribute('d', d);
  }
  function kv(box, k, v) { box.appendChild(el('span', null, k)); box.appendChild(el('span', null, v)); }
  function select(n) {
    selected = n;
    drawSelection(n);
    var box = $('detail');
    box.textContent = '';
    var text = textOf(n), path = lineage(n);
    var g2 = el('div', {'class': 'kv'});
    kv(g2, 'step', String(n.c) + ' of ' + S);
    kv(g2, 'slot', String(n.i));
    kv(g2, 'status', status(n));
    kv(g2, 'log w', fmt(n.logw, 4));
    if (n.c > 0) kv(g2, 'weight', (100 * (n.share || 0)).toFixed(2) + '% of this step');
    kv(g2, 'tokens', String(path.filter(function (q) { return q.ev && q.ev.token >= 0; }).length));
    var forks = 0;
    for (var k = 1; k < path.length; k++) if (path[k].i !== path[k - 1].i) forks++;
    kv(g2, 'slot changes', String(forks) + ' (resampled from another slot)');
    if (n.dead) kv(g2, 'died', n.why || '');
    box.appendChild(g2);
    box.appendChild(el('h2', null, 'Text'));
    box.appendChild(el('pre', {id: 'detail-text'}, text));
    box.appendChild(el('h2', null, 'Lineage, step by step'));
    var tb = el('table'), th = el('thead'), hr = el('tr');
    ['step', 'slot', 'token', 'mass', 'critic', 'log w'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
    th.appendChild(hr); tb.appendChild(th);
    var body = el('tbody');
    var moves = path.filter(function (q) { return q.ev; });
    moves.slice(Math.max(0, moves.length - 300)).forEach(function (q) {
      var tr = el('tr');
      tr.appendChild(el('td', {'class': 'num'}, String(q.c)));
      tr.appendChild(el('td', {'class': 'num'}, String(q.i)));
      tr.appendChild(el('td', {'class': 'txt'}, JSON.stringify(q.ev.text)));
      tr.appendChild(el('td', {'class': 'num'}, fmt(q.ev.mass, 2)));
      tr.appendChild(el('td', {'class': 'num'}, q.ev.critic ? q.ev.critic.mode[0] + ' ' + fmt(q.ev.critic.score, 2) : ''));
      tr.appendChild(el('td', {'class': 'num' + (q.dead ? ' dead' : '')}, fmt(q.logw, 2)));
      tr.addEventListener('click', function () { select(q); });
      body.appendChild(tr);
    });
    tb.appendChild(body);
    box.appendChild(tb);
    document.querySelectorAll('tr.selected').forEach(function (r) { r.classList.remove('selected'); });
    if (n.c === S) {
      var row = document.querySelector('#particles tbody tr[data-slot="' + n.i + '"]');
      if (row) row.classList.add('selected');
    }
  }

  /* ---- Tables. */
  function row(tbody, cells, onclick, attrs) {
    var tr = el('tr', attrs);
    cells.forEach(function (cdef) { tr.appendChild(el('td', cdef[1] ? {'class': cdef[1]} : null, cdef[0])); });
    tr.addEventListener('click', onclick);
    tbody.appendChild(tr);
    return tr;
  }
  var finalText = last.map(textOf);
  (function posterior() {
    var tb = document.querySelector('#posterior tbody');
    if (!res || !res.posterior || !res.posterior.length) {
      row(tb, [['', ''], ['', ''], ['', ''], [res ? 'every particle died: no posterior' : 'the run failed', '']], function () {});
      return;
    }
    res.posterior.forEach(function (pe, k) {
      var tr = row(tb, [[String(k + 1), 'num'], ['', 'num'], [String(pe.count), 'num'], [pe.text, 'txt']], function () {
        for (var i = 0; i < N; i++) if (finalText[i] === pe.text && last[i].logw > NEG) { select(last[i]); return; }
      }, {'class': 'posterior-row'});
      var cell = tr.children[1];
      cell.appendChild(el('span', {'class': 'bar', style: 'width:' + Math.round(60 * pe.prob) + 'px'}));
      cell.appendChild(document.createTextNode(pe.prob.toFixed(4)));
    });
  })();
  (function particles() {
    var tb = document.querySelector('#particles tbody');
    for (var i = 0; i < N; i++) {
      var n = last[i], end = status(n);
      var tr = row(tb, [[String(i), 'num'], [(100 * (n.share || 0)).toFixed(1) + '%', 'num'],
                        [fmt(n.logw, 3), 'num'], ['', ''], [finalText[i], 'txt']],
                   (function (q) { return function () { select(q); }; })(n),
                   {'class': 'particle-row', 'data-slot': String(i)});
      tr.children[3].appendChild(el('span', {'class': 'tag' + (n.dead ? ' dead' : n.forced ? ' forced' : ''),
                                             title: n.why || ''}, end));
    }
  })();
  (function deathTable() {
    var tb = document.querySelector('#deaths tbody');
    if (!deaths.length) { row(tb, [['', ''], ['', ''], ['', ''], ['no particle died', ''], ['', '']], function () {}); return; }
    deaths.forEach(function (n) {
      row(tb, [[String(n.c), 'num'], [String(n.i), 'num'], [n.ev.death.by, ''], [n.ev.death.reason, 'dead'],
               [tail(textOf(n), 160), 'txt']], function () { select(n); }, {'class': 'death-row'});
    });
  })();

  /* For tests and scripts: where a node is on screen, and its text. */
  window.smcgenView = {
    particles: N, steps: S, resamplings: nres,
    nodeCenter: function (c, i) {
      var r = tree.getBoundingClientRect();
      return {x: r.left + X(c), y: r.top + Y(i)};
    },
    scrollToNode: function (c, i) {
      var sc = $('tree-scroll');
      sc.scrollLeft = Math.max(0, X(c) - sc.clientWidth / 2);
      tree.scrollIntoView({block: 'center'});
    },
    textOf: function (c, i) { return textOf(cols[c][i]); },
    select: function (c, i) { select(cols[c][i]); }
  };
})();
