/// The page's stylesheet, skeleton and script, inlined into every report: no fonts, scripts or
/// images are fetched. The script reads the data blocks `HTMLDocument` writes; it decodes no Kafka
/// bytes (every value it shows is from `dump --json`, `stats --json`, `check --json` or the diff
/// JSON). Tests and the benchmark read what it exposes: `body[data-state=ready]`,
/// `body[data-render-ms]`, and `data-` attributes on connections, APIs, findings and differences.
enum ReportAssets {
    static let css = #"""
        :root { --bg:#fff; --fg:#1d232b; --muted:#66707c; --line:#d9dee4; --panel:#f5f7f9; --err:#d0192a; --find:#e8870e; --hl:#fff1a8; --sel:#0b63ce; }
        * { box-sizing:border-box; }
        body { margin:0; font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
        header { padding:8px 14px; border-bottom:1px solid var(--line); background:var(--panel); }
        header h1 { font-size:15px; margin:0 0 2px 0; }
        #summary { color:var(--muted); }
        #summary b { color:var(--fg); }
        main { padding:8px 14px 40px; }
        h2 { font-size:14px; margin:16px 0 6px; }
        .bar { display:flex; flex-wrap:wrap; gap:6px 14px; align-items:center; margin:6px 0; }
        .chips { display:flex; flex-wrap:wrap; gap:4px; max-height:84px; overflow:auto; }
        .chip { display:inline-flex; align-items:center; gap:4px; padding:1px 6px; border:1px solid var(--line); border-radius:10px; cursor:pointer; user-select:none; white-space:nowrap; }
        .chip input { margin:0; }
        .sw { display:inline-block; width:10px; height:10px; border-radius:2px; }
        button { font:inherit; padding:1px 8px; border:1px solid var(--line); background:#fff; border-radius:4px; cursor:pointer; }
        button:hover { background:var(--panel); }
        input[type=search] { font:inherit; padding:2px 6px; width:260px; border:1px solid var(--line); border-radius:4px; }
        #tl-scroll { position:relative; overflow-y:auto; overflow-x:hidden; border:1px solid var(--line); max-height:56vh; min-height:80px; }
        #timeline { position:sticky; top:0; display:block; cursor:grab; }
        #tl-spacer { width:1px; }
        #tip { position:fixed; pointer-events:none; background:#1d232bee; color:#fff; padding:3px 6px; border-radius:3px; font-size:12px; display:none; z-index:5; max-width:480px; }
        .muted { color:var(--muted); }
        .viewer { border:1px solid var(--line); border-radius:4px; margin-top:8px; }
        .viewer > .head { padding:4px 8px; background:var(--panel); border-bottom:1px solid var(--line); display:flex; gap:12px; flex-wrap:wrap; align-items:center; }
        .cols { display:grid; grid-template-columns:1fr 1fr; }
        .cols > div { padding:4px 8px; min-width:0; overflow:auto; max-height:60vh; }
        .cols > div + div { border-left:1px solid var(--line); }
        .cols h3 { font-size:12px; margin:2px 0 4px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
        .tree { font:12px/1.45 ui-monospace,Menlo,Consolas,monospace; }
        .tree details > summary { cursor:pointer; list-style:none; }
        .tree details > summary::before { content:"▸ "; color:var(--muted); }
        .tree details[open] > summary::before { content:"▾ "; }
        .tree .kids { padding-left:14px; border-left:1px dotted var(--line); margin-left:3px; }
        .tree .k { color:#7a3e9d; }
        .tree .s { color:#1a7f37; word-break:break-all; }
        .tree .n { color:#0550ae; }
        .tree .z { color:var(--muted); }
        .tree .hl > summary, .tree .hl.leaf { background:var(--hl); outline:1px solid #e0c200; }
        .tree .missing { color:var(--err); font-style:italic; }
        pre.raw { white-space:pre-wrap; word-break:break-all; font:11px/1.4 ui-monospace,monospace; margin:0; padding:6px 8px; max-height:30vh; overflow:auto; background:var(--panel); }
        table { border-collapse:collapse; }
        th, td { text-align:left; padding:2px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
        th { font-weight:600; color:var(--muted); font-size:12px; }
        td.num { text-align:right; font-variant-numeric:tabular-nums; }
        .err { color:var(--err); font-weight:600; }
        .ok { color:#1a7f37; }
        ul.findings { list-style:none; padding:0; margin:0; }
        li.finding { padding:4px 6px; border-left:3px solid var(--find); margin:4px 0; background:#fff8ef; }
        li.finding .fid { font-weight:700; margin-right:6px; }
        a.exlink { color:var(--sel); cursor:pointer; margin-right:10px; white-space:nowrap; }
        .lvl-lint { border-left-color:#8a96a3 !important; background:var(--panel) !important; }
        tr.xrow { cursor:pointer; }
        tr.xrow:hover { background:var(--panel); }
        tr.xrow.selected { background:#e3efff; }
        .st-differs { color:#b35900; font-weight:600; } .st-onlyInA, .st-onlyInB { color:var(--err); font-weight:600; } .st-same { color:var(--muted); }
        td.path { font:12px ui-monospace,monospace; }
        td.val { font:12px ui-monospace,monospace; max-width:420px; word-break:break-all; }
        .cmp { border:1px solid var(--line); border-radius:4px; padding:4px 8px; margin:10px 0; }
        .cmp > h2 { margin-top:4px; }
        """#

    static let body = #"""
        <header><h1 id="title">kafkatape report</h1><div id="summary"></div></header>
        <main id="main"><noscript>This report draws itself with JavaScript; the data is in the page's script blocks.</noscript></main>
        <div id="tip"></div>

        """#

    static let script = #"""
        (function () {
        'use strict';
        const $ = (id) => document.getElementById(id);
        function el(tag, attrs, ...kids) {
          const e = document.createElement(tag);
          if (attrs) for (const k in attrs) {
            const v = attrs[k];
            if (v === undefined || v === null || v === false) continue;
            if (k === 'class') e.className = v;
            else if (k === 'text') e.textContent = v;
            else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
            else if (k.startsWith('data_')) e.dataset[k.slice(5).replace(/_([a-z])/g, (m, c) => c.toUpperCase())] = v;
            else e.setAttribute(k, v);
          }
          for (const c of kids) if (c !== null && c !== undefined) e.append(c);
          return e;
        }
        const PALETTE = ['#4e79a7','#f28e2b','#59a14f','#b07aa1','#76b7b2','#edc948','#9c755f','#ff9da7','#bab0ac','#2f4b7c','#a05195','#3d9970','#ff6f61','#6b5b95','#88b04b','#009b95'];
        function fmtMs(ms) {
          if (ms === null || ms === undefined || isNaN(ms)) return '–';
          const a = Math.abs(ms);
          if (a < 1) return (ms * 1000).toFixed(a < 0.01 ? 1 : 0) + 'µs';
          if (a < 1000) return (a < 10 ? ms.toFixed(2) : a < 100 ? ms.toFixed(1) : ms.toFixed(0)) + 'ms';
          if (a < 60000) return (ms / 1000).toFixed(a < 10000 ? 2 : 1) + 's';
          return (ms / 60000).toFixed(1) + 'min';
        }
        const fmtNs = (ns) => ns === null || ns === undefined ? '–' : fmtMs(ns / 1e6);

        // Exchange JSON: one `dump --json` line per exchange in a text block, split on demand.
        function LineStore(id) {
          const node = $(id);
          this.text = node ? node.textContent : '';
          // The text lives on in this string; the element would only make the DOM heavier to keep and serialise.
          if (node) node.remove();
          this.offsets = null;
          this.lower = null;
        }
        LineStore.prototype.index = function () {
          if (this.offsets) return this.offsets;
          const t = this.text, offs = [];
          let p = t.indexOf('\n') + 1; // the block starts with a newline
          while (p > 0 && p < t.length) { offs.push(p); const q = t.indexOf('\n', p); if (q < 0) break; p = q + 1; }
          this.offsets = Int32Array.from(offs);
          return this.offsets;
        };
        LineStore.prototype.line = function (i) {
          const o = this.index();
          if (i < 0 || i >= o.length) return null;
          const end = this.text.indexOf('\n', o[i]);
          return this.text.slice(o[i], end < 0 ? undefined : end);
        };
        LineStore.prototype.get = function (i) { const l = this.line(i); return l === null ? null : JSON.parse(l); };
        // Lines containing `q` (case-insensitive), by scanning the one text once.
        LineStore.prototype.search = function (q) {
          const o = this.index();
          if (!this.lower) this.lower = this.text.toLowerCase();
          const t = this.lower, needle = q.toLowerCase(), hits = new Set();
          let p = t.indexOf(needle);
          while (p >= 0) {
            let lo = 0, hi = o.length - 1;
            while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (o[mid] <= p) lo = mid; else hi = mid - 1; }
            hits.add(lo);
            const next = t.indexOf('\n', p);
            if (next < 0) break;
            p = t.indexOf(needle, next + 1);
          }
          return hits;
        };

        // A decoded value as a tree; `mark` (a path trie from diff paths) highlights fields.
        function parsePath(path) {
          const segs = [];
          if (path === '(message)') return segs;
          let i = 0;
          while (i < path.length) {
            if (path[i] === '.') { i++; continue; }
            if (path[i] === '[') {
              const j = path.indexOf(']', i);
              const inner = path.slice(i + 1, j < 0 ? path.length : j);
              const eq = inner.indexOf('=');
              segs.push(eq < 0 ? { i: parseInt(inner, 10) } : { k: inner.slice(0, eq), v: inner.slice(eq + 1) });
              i = j < 0 ? path.length : j + 1;
            } else {
              let j = i;
              while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
              segs.push({ f: path.slice(i, j) });
              i = j;
            }
          }
          return segs;
        }
        function Trie() { this.fields = new Map(); this.elems = []; this.leaf = false; }
        Trie.prototype.add = function (path) {
          let n = this;
          for (const s of parsePath(path)) {
            if (s.f !== undefined) {
              if (!n.fields.has(s.f)) n.fields.set(s.f, new Trie());
              n = n.fields.get(s.f);
            } else {
              let e = n.elems.find((x) => x.i === s.i && x.k === s.k && x.v === s.v);
              if (!e) { e = { i: s.i, k: s.k, v: s.v, node: new Trie() }; n.elems.push(e); }
              n = e.node;
            }
          }
          n.leaf = true;
        };
        function keyText(v) {
          if (v === null || v === undefined) return 'null';
          if (typeof v === 'object') return v.utf8 !== undefined ? v.utf8 : JSON.stringify(v);
          return String(v);
        }
        function scalar(v) {
          if (v === null) return el('span', { class: 'z', text: 'null' });
          if (typeof v === 'string') return el('span', { class: 's', text: JSON.stringify(v) });
          if (typeof v === 'number' || typeof v === 'boolean') return el('span', { class: 'n', text: String(v) });
          return el('span', { text: JSON.stringify(v) });
        }
        function tree(label, v, mark, depth, path) {
          const isObj = v !== null && typeof v === 'object';
          const onPath = !!mark;
          const hl = mark && mark.leaf;
          const lab = label === null ? null : el('span', { class: 'k', text: label + ': ' });
          if (!isObj) {
            return el('div', { class: 'leaf' + (hl ? ' hl' : ''), data_path: hl ? path : null }, lab, scalar(v));
          }
          const arr = Array.isArray(v);
          const keys = arr ? null : Object.keys(v);
          const size = arr ? v.length : keys.length;
          const d = el('details', { class: hl ? 'hl' : null, data_path: hl ? path : null });
          const summary = el('summary', null, lab, el('span', { class: 'z', text: arr ? '[' + size + ']' : '{' + size + '}' }));
          d.append(summary);
          if (onPath || depth < 6 && size <= 40 || size <= 4) d.open = true;
          const build = () => {
            const kids = el('div', { class: 'kids' });
            const limit = onPath ? Infinity : 200;
            if (arr) {
              // Record sets: the diff names records by offset across batches (Records[offset=3]);
              // dump shows batches holding records, so the marks go down into each batch's records.
              const batches = mark && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && Array.isArray(x.records) && x.baseOffset !== undefined);
              const used = mark && mark.used ? mark.used : new Set();
              v.forEach((x, i) => {
                if (i >= limit) return;
                if (batches) {
                  const inner = new Trie();
                  const recs = new Trie();
                  recs.elems = mark.elems; recs.quiet = true; recs.used = used; recs.basePath = path;
                  inner.fields.set('records', recs);
                  kids.append(tree(String(i), x, inner, depth + 1, path + '[' + i + ']'));
                  return;
                }
                let m = null, seg = null;
                if (mark) for (let k = 0; k < mark.elems.length; k++) {
                  const e = mark.elems[k];
                  if (e.i === i || (e.k !== undefined && x !== null && typeof x === 'object' && keyText(x[e.k]) === e.v)) { m = e.node; seg = e; used.add(k); break; }
                }
                const segText = seg && seg.k !== undefined ? '[' + seg.k + '=' + seg.v + ']' : '[' + i + ']';
                kids.append(tree(String(i), x, m, depth + 1, path + segText));
              });
              if (v.length > limit) kids.append(el('div', { class: 'z', text: '… ' + (v.length - limit) + ' more' }));
              if (mark && !mark.quiet) mark.elems.forEach((e, k) => {
                if (!used.has(k)) kids.append(el('div', { class: 'missing hl leaf', data_path: path + (e.k !== undefined ? '[' + e.k + '=' + e.v + ']' : '[' + e.i + ']'), text: (e.k !== undefined ? '[' + e.k + '=' + e.v + ']' : '[' + e.i + ']') + ' absent on this side' }));
              });
            } else {
              for (const k of keys) {
                const m = mark ? mark.fields.get(k) || null : null;
                kids.append(tree(k, v[k], m, depth + 1, m && m.basePath !== undefined ? m.basePath : path ? path + '.' + k : k));
              }
              if (mark) for (const [k] of mark.fields) if (!(k in v)) {
                kids.append(el('div', { class: 'missing hl leaf', data_path: path ? path + '.' + k : k, text: k + ': absent on this side' }));
              }
            }
            d.append(kids);
          };
          if (d.open) build(); else d.addEventListener('toggle', function once() { d.removeEventListener('toggle', once); build(); });
          return d;
        }

        // The exchange viewer: request and response side by side, the exact `dump --json` line below.
        function exchangeBody(obj, raw, marks) {
          const side = (name, v, m) => el('div', { data_side: name }, el('h3', { text: name }),
            v === undefined || v === null ? el('div', { class: 'z tree', text: name === 'response' && obj && obj.missingResponse ? '(no response: ' + obj.missingResponse + ')' : '(none)' })
              : el('div', { class: 'tree' }, tree(null, v, m || null, 0, '')));
          const cols = el('div', { class: 'cols' }, side('request', obj && obj.request, marks && marks.request), side('response', obj && obj.response, marks && marks.response));
          const extra = [];
          if (obj && obj.error) extra.push(el('div', { class: 'err', style: 'padding:4px 8px', text: obj.error }));
          const rawBox = el('details', null, el('summary', { style: 'padding:2px 8px;cursor:pointer', text: 'dump --json line' }), el('pre', { class: 'raw', text: raw || '' }));
          return el('div', null, ...extra, cols, rawBox);
        }
        function exchangeTitle(o) {
          if (!o) return '(not on this side)';
          let s = 'conn ' + o.connection + ' #' + o.correlationId + ' ' + (o.apiName || 'ApiKey' + o.apiKey) + ' v' + o.apiVersion;
          if (o.latencyNs !== null && o.latencyNs !== undefined) s += ' · ' + fmtNs(o.latencyNs);
          if (o.clientId) s += ' · client ' + o.clientId;
          return s;
        }

        const dataNode = $('data');
        const data = JSON.parse(dataNode.textContent);
        dataNode.remove();
        const main = $('main');
        function done(extra) {
          document.body.dataset.state = 'ready';
          document.body.dataset.renderMs = performance.now().toFixed(1);
          if (extra) extra();
        }

        // ---------------------------------------------------------------- capture report
        function captureReport() {
          const lines = new LineStore('lines');
          const ex = data.ex, n = ex.start.length;
          const conns = data.connections, apis = data.apis;
          document.title = 'kafkatape report: ' + data.capture;
          $('title').textContent = 'kafkatape report — ' + data.capture;
          const start = Float64Array.from(ex.start), conn = Int32Array.from(ex.conn), api = Int32Array.from(ex.api), flags = Int32Array.from(ex.flags);
          const endMs = data.endMs;
          // Unanswered requests reach to their connection's close, or the capture's end.
          const end = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            const e = ex.end[i];
            if (e !== null) end[i] = e; else { const c = conns[conn[i]]; end[i] = c.closeMs !== null ? Math.max(c.closeMs, start[i]) : endMs; }
          }
          const perConn = conns.map(() => []);
          for (let i = 0; i < n; i++) perConn[conn[i]].push(i);
          const maxDur = new Float64Array(conns.length);
          const byConn = perConn.map((list, c) => {
            list.sort((a, b) => start[a] - start[b]);
            let m = 0; for (const i of list) m = Math.max(m, end[i] - start[i]); maxDur[c] = m;
            return Int32Array.from(list);
          });
          const eventsBy = conns.map(() => []), globalEvents = [];
          data.events.forEach((e, k) => (e.conn >= 0 ? eventsBy[e.conn] : globalEvents).push(k));
          const check = data.check;
          const findingMark = new Uint8Array(n);
          const findingsOf = new Map();
          if (check) (data.findingExchanges || []).forEach((list, k) => list.forEach((i) => {
            if (i < 0) return;
            findingMark[i] = 1;
            if (!findingsOf.has(i)) findingsOf.set(i, []);
            findingsOf.get(i).push(k);
          }));
          const apiColor = (a) => PALETTE[a % PALETTE.length];

          // Summary.
          const s = data.stats;
          const errCount = s.apis.reduce((t, a) => t + Object.values(a.errors).reduce((x, y) => x + y, 0), 0);
          $('summary').append(...[el('b', { id: 'conn-count', data_count: conns.length, text: conns.length + ' connections' }), ' · ',
            el('b', { id: 'exchange-count', data_count: n, text: n + ' exchanges' }), ' · ',
            el('span', { text: 'span ' + fmtMs(endMs) }), ' · ',
            el('span', { class: errCount ? 'err' : null, text: errCount + ' error codes' }),
            data.unpaired ? el('span', { class: 'err', text: ' · ' + data.unpaired + ' frames without a pair (dump shows them)' }) : null,
            Object.keys(s.events).length ? el('span', { text: ' · events: ' + Object.entries(s.events).map(([k, v]) => k + '×' + v).join(', ') }) : null,
            check ? el('span', { class: check.clean ? 'ok' : 'err', text: ' · check: ' + (check.clean ? 'clean' : check.summary.findings + ' findings') }) : el('span', { class: 'muted', text: ' · not checked (--check)' })].filter((x) => x !== null));

          // Filters.
          const connOn = new Uint8Array(conns.length).fill(1), apiOn = new Uint8Array(apis.length).fill(1);
          let searchHits = null;
          const shown = new Uint8Array(n);
          let rows = [];
          function refilter() {
            for (let i = 0; i < n; i++) shown[i] = connOn[conn[i]] && apiOn[api[i]] && (!searchHits || searchHits.has(i)) ? 1 : 0;
            rows = [];
            for (let c = 0; c < conns.length; c++) {
              if (!connOn[c]) continue;
              if (searchHits) { let any = false; for (const i of byConn[c]) if (shown[i]) { any = true; break; } if (!any) continue; }
              rows.push(c);
            }
            layout(); draw();
          }
          const connChips = el('div', { class: 'chips', id: 'connections' });
          conns.forEach((c, k) => {
            const cb = el('input', { type: 'checkbox', checked: '', onchange: () => { connOn[k] = cb.checked ? 1 : 0; refilter(); } });
            connChips.append(el('label', { class: 'chip connection', data_connection: c.id, data_role: c.role, title: c.client + ' → ' + c.upstream + (c.closedBy ? ' · closed by ' + c.closedBy + (c.reason ? ': ' + c.reason : '') : '') },
              cb, 'conn ' + c.id + ' · ' + c.role + ' · ' + byConn[k].length));
          });
          const apiChips = el('div', { class: 'chips', id: 'apis' });
          apis.forEach((a, k) => {
            const cb = el('input', { type: 'checkbox', checked: '', onchange: () => { apiOn[k] = cb.checked ? 1 : 0; refilter(); } });
            apiChips.append(el('label', { class: 'chip api', data_api: a }, cb, el('span', { class: 'sw', style: 'background:' + apiColor(k) }), a));
          });
          const setAll = (arr, chips, v) => { arr.fill(v); chips.querySelectorAll('input').forEach((i) => (i.checked = !!v)); refilter(); };
          const searchBox = el('input', { type: 'search', id: 'search', placeholder: 'search decoded fields (Enter)…' });
          const searchInfo = el('span', { class: 'muted', id: 'search-info' });
          function runSearch() {
            const q = searchBox.value.trim();
            if (!q) { searchHits = null; searchInfo.textContent = ''; }
            else { searchHits = lines.search(q); searchInfo.textContent = searchHits.size + ' exchange' + (searchHits.size === 1 ? '' : 's') + ' match'; searchInfo.dataset.matches = searchHits.size; }
            refilter();
          }
          searchBox.addEventListener('keydown', (e) => { if (e.key === 'Enter') runSearch(); });
          searchBox.addEventListener('search', runSearch);
          main.append(
            el('div', { class: 'bar' }, el('b', { text: 'Connections' }), el('button', { text: 'all', onclick: () => setAll(connOn, connChips, 1) }), el('button', { text: 'none', onclick: () => setAll(connOn, connChips, 0) })),
            connChips,
            el('div', { class: 'bar' }, el('b', { text: 'APIs' }), el('button', { text: 'all', onclick: () => setAll(apiOn, apiChips, 1) }), el('button', { text: 'none', onclick: () => setAll(apiOn, apiChips, 0) })),
            apiChips,
            el('div', { class: 'bar' }, searchBox, searchInfo,
              el('span', { style: 'flex:1' }),
              el('button', { text: '−', title: 'zoom out', onclick: () => zoom(2, null) }), el('button', { text: '+', title: 'zoom in', onclick: () => zoom(0.5, null) }),
              el('button', { text: 'fit', onclick: () => { v0 = -endMs * 0.01; v1 = endMs * 1.01 + 0.001; draw(); } }),
              el('span', { class: 'muted', id: 'range' })),
          );
          const legend = el('div', { class: 'muted', style: 'margin:2px 0 4px' }, 'Wheel zooms, drag pans, shift+wheel scrolls connections; bars run from request to response. ',
            el('span', { class: 'err', text: '▬' }), ' error code or undecodable · ', el('span', { style: 'color:var(--find)', text: '▼' }), ' check finding · ◆ event (rewrite, fault, …) · ┃ disconnect · hatched: unanswered');
          const scroller = el('div', { id: 'tl-scroll' });
          const spacer = el('div', { id: 'tl-spacer' });
          const canvas = el('canvas', { id: 'timeline' });
          scroller.append(canvas, spacer);
          const viewer = el('div', { class: 'viewer', id: 'viewer' }, el('div', { class: 'head' }, el('span', { class: 'muted', text: 'Click an exchange on the timeline to see its decoded request and response.' })));
          main.append(legend, scroller, viewer);

          // Timeline.
          const ROW = 20, AXIS = 22, LABEL = 150;
          const ctx = canvas.getContext('2d');
          let W = 800, H = 200, dpr = window.devicePixelRatio || 1;
          let v0 = -endMs * 0.01, v1 = endMs * 1.01 + 0.001;
          let selected = -1;
          const X = (t) => LABEL + (t - v0) / (v1 - v0) * (W - LABEL);
          const T = (x) => v0 + (x - LABEL) / (W - LABEL) * (v1 - v0);
          function layout() {
            W = Math.max(400, scroller.clientWidth);
            const want = AXIS + rows.length * ROW + 4;
            H = Math.min(want, Math.max(120, Math.floor(window.innerHeight * 0.56)));
            spacer.style.height = Math.max(0, want - H) + 'px';
            canvas.style.width = W + 'px'; canvas.style.height = H + 'px';
            canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
          }
          function firstAtOrAfter(list, t) {
            let lo = 0, hi = list.length;
            while (lo < hi) { const m = (lo + hi) >> 1; if (start[list[m]] < t) lo = m + 1; else hi = m; }
            return lo;
          }
          function ticks() {
            const span = v1 - v0, raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
            const step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw) || raw;
            const out = [];
            for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) out.push(t);
            return out;
          }
          function draw() {
            ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
            ctx.clearRect(0, 0, W, H);
            ctx.font = '11px system-ui,sans-serif';
            ctx.textBaseline = 'middle';
            const top = scroller.scrollTop;
            // Grid and axis.
            ctx.fillStyle = '#66707c'; ctx.strokeStyle = '#eef1f4';
            for (const t of ticks()) { const x = X(t); ctx.beginPath(); ctx.moveTo(x, AXIS); ctx.lineTo(x, H); ctx.stroke(); ctx.fillText(fmtMs(t), x + 2, 11); }
            ctx.save(); ctx.beginPath(); ctx.rect(0, AXIS, W, H - AXIS); ctx.clip();
            const r0 = Math.max(0, Math.floor(top / ROW)), r1 = Math.min(rows.length, Math.ceil((top + H - AXIS) / ROW));
            let drawn = 0;
            for (let r = r0; r < r1; r++) {
              const c = rows[r], y = AXIS + r * ROW - top;
              if (r % 2) { ctx.fillStyle = '#f8f9fb'; ctx.fillRect(0, y, W, ROW); }
              const cd = conns[c];
              // Connection lifetime.
              const life0 = cd.openMs !== null ? cd.openMs : (byConn[c].length ? start[byConn[c][0]] : 0), life1 = cd.closeMs !== null ? cd.closeMs : endMs;
              ctx.fillStyle = '#d9dee4'; ctx.fillRect(Math.max(LABEL, X(life0)), y + ROW / 2, Math.max(0, Math.min(W, X(life1)) - Math.max(LABEL, X(life0))), 1);
              if (cd.closeMs !== null && cd.closeMs >= v0 && cd.closeMs <= v1) { ctx.fillStyle = cd.closedBy === 'client' ? '#66707c' : '#d0192a'; ctx.fillRect(X(cd.closeMs) - 1, y + 2, 2, ROW - 4); }
              const list = byConn[c];
              let i0 = firstAtOrAfter(list, v0 - maxDur[c]);
              let lastPx = -1, lastApi = -1;
              for (let k = i0; k < list.length; k++) {
                const i = list[k];
                if (start[i] > v1) break;
                if (!shown[i] || end[i] < v0) continue;
                const x0 = Math.max(LABEL - 2, X(start[i])), x1 = Math.min(W + 2, X(end[i]));
                const w = Math.max(1, x1 - x0), px = Math.floor(x0);
                const f = flags[i];
                // Bars under a pixel that one before already covered add nothing to see.
                if (w <= 1 && px === lastPx && api[i] === lastApi && !(f & 1) && !findingMark[i] && i !== selected) continue;
                lastPx = px; lastApi = api[i];
                ctx.fillStyle = apiColor(api[i]);
                ctx.globalAlpha = (f & 2) ? 0.45 : 0.9;
                ctx.fillRect(x0, y + 4, w, ROW - 9);
                ctx.globalAlpha = 1;
                if (f & 2 && w > 6) { ctx.strokeStyle = '#fff'; for (let hx = x0 + 3; hx < x0 + w; hx += 6) { ctx.beginPath(); ctx.moveTo(hx, y + 4); ctx.lineTo(hx - 4, y + ROW - 5); ctx.stroke(); } }
                if (f & 1) { ctx.fillStyle = '#d0192a'; ctx.fillRect(x0, y + ROW - 5, Math.max(w, 3), 3); }
                if (findingMark[i]) { ctx.fillStyle = '#e8870e'; ctx.beginPath(); ctx.moveTo(x0 - 4, y + 1); ctx.lineTo(x0 + 4, y + 1); ctx.lineTo(x0, y + 6); ctx.fill(); }
                if (i === selected) { ctx.strokeStyle = '#0b63ce'; ctx.lineWidth = 2; ctx.strokeRect(x0 - 1, y + 3, w + 2, ROW - 7); ctx.lineWidth = 1; }
                drawn++;
              }
              for (const k of eventsBy[c]) {
                const e = data.events[k];
                if (e.t < v0 || e.t > v1) continue;
                const x = X(e.t);
                ctx.fillStyle = e.kind === 'fault' ? '#a4262c' : e.kind === 'rewrite' ? '#6b5b95' : '#1d232b';
                ctx.beginPath(); ctx.moveTo(x, y + ROW - 6); ctx.lineTo(x + 2, y + ROW - 3.5); ctx.lineTo(x, y + ROW - 1); ctx.lineTo(x - 2, y + ROW - 3.5); ctx.fill();
              }
              // Label column over everything drawn before it.
              ctx.fillStyle = r % 2 ? '#f8f9fb' : '#fff'; ctx.fillRect(0, y, LABEL, ROW);
              ctx.fillStyle = '#1d232b'; ctx.fillText('conn ' + cd.id + ' · ' + cd.role, 4, y + ROW / 2);
            }
            for (const k of globalEvents) {
              const e = data.events[k];
              if (e.t < v0 || e.t > v1) continue;
              ctx.strokeStyle = '#d0192a'; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(X(e.t), AXIS); ctx.lineTo(X(e.t), H); ctx.stroke(); ctx.setLineDash([]);
              ctx.fillStyle = '#d0192a'; ctx.fillText(e.kind, X(e.t) - 50, AXIS + 8);
            }
            ctx.restore();
            ctx.strokeStyle = '#d9dee4'; ctx.beginPath(); ctx.moveTo(0, AXIS - 0.5); ctx.lineTo(W, AXIS - 0.5); ctx.moveTo(LABEL - 0.5, 0); ctx.lineTo(LABEL - 0.5, H); ctx.stroke();
            canvas.dataset.rows = rows.length; canvas.dataset.drawn = drawn;
            $('range').textContent = fmtMs(v0) + ' … ' + fmtMs(v1) + ' (' + fmtMs(v1 - v0) + ' shown)';
          }
          let pending = false;
          const redraw = () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } };
          function zoom(factor, atX) {
            const t = atX === null ? (v0 + v1) / 2 : T(atX);
            const span = Math.max(0.0005, (v1 - v0) * factor);
            const frac = atX === null ? 0.5 : (t - v0) / (v1 - v0);
            v0 = t - span * frac; v1 = v0 + span; redraw();
          }
          // An exchange with some of its neighbours around it.
          function showRange(a, b) { const pad = Math.max((b - a) * 8, 0.05); v0 = a - pad; v1 = b + pad; }
          function hit(mx, my) {
            const r = Math.floor((my - AXIS + scroller.scrollTop) / ROW);
            if (my < AXIS || r < 0 || r >= rows.length || mx < LABEL) return null;
            const c = rows[r], list = byConn[c], tol = (v1 - v0) / (W - LABEL) * 3, t = T(mx);
            let best = -1, bestD = Infinity;
            for (let k = firstAtOrAfter(list, t - maxDur[c] - tol); k < list.length; k++) {
              const i = list[k];
              if (start[i] > t + tol) break;
              if (!shown[i] || end[i] < t - tol) continue;
              const d = t < start[i] ? start[i] - t : t > end[i] ? t - end[i] : 0;
              if (d < bestD || (d === bestD && d === 0)) { best = i; bestD = d; }
            }
            if (best >= 0) return { ex: best };
            for (const k of eventsBy[c]) if (Math.abs(data.events[k].t - t) <= tol) return { ev: k };
            return null;
          }
          let drag = null;
          canvas.addEventListener('mousedown', (e) => { drag = { x: e.clientX, y: e.clientY, v0, v1, top: scroller.scrollTop, moved: false }; canvas.style.cursor = 'grabbing'; });
          window.addEventListener('mouseup', (e) => {
            if (!drag) return;
            const d = drag; drag = null; canvas.style.cursor = 'grab';
            if (!d.moved) { const b = canvas.getBoundingClientRect(); const h = hit(e.clientX - b.left, e.clientY - b.top); if (h && h.ex !== undefined) select(h.ex, false); else if (h) showEvent(h.ev); }
          });
          window.addEventListener('mousemove', (e) => {
            const tip = $('tip');
            if (drag) {
              const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
              if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
              const dt = dx / (W - LABEL) * (drag.v1 - drag.v0);
              v0 = drag.v0 - dt; v1 = drag.v1 - dt; scroller.scrollTop = drag.top - dy; redraw(); tip.style.display = 'none'; return;
            }
            if (e.target !== canvas) { tip.style.display = 'none'; return; }
            const b = canvas.getBoundingClientRect(), h = hit(e.clientX - b.left, e.clientY - b.top);
            if (!h) { tip.style.display = 'none'; return; }
            let text;
            if (h.ex !== undefined) { const i = h.ex; text = 'conn ' + conns[conn[i]].id + ' #' + ex.corr[i] + ' ' + apis[api[i]] + ' · ' + (ex.end[i] === null ? 'no response' : fmtMs(end[i] - start[i])) + ' · at ' + fmtMs(start[i]) + ((flags[i] & 1) ? ' · error' : '') + (findingMark[i] ? ' · finding' : ''); }
            else { const ev = data.events[h.ev]; text = ev.kind + ': ' + ev.message; }
            tip.textContent = text; tip.style.display = 'block'; tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
          });
          canvas.addEventListener('wheel', (e) => {
            e.preventDefault();
            if (e.shiftKey) { scroller.scrollTop += e.deltaY; return; }
            const b = canvas.getBoundingClientRect();
            if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) { const dt = e.deltaX / (W - LABEL) * (v1 - v0); v0 += dt; v1 += dt; redraw(); return; }
            zoom(Math.pow(1.0015, e.deltaY), e.clientX - b.left);
          }, { passive: false });
          scroller.addEventListener('scroll', redraw);
          window.addEventListener('resize', () => { layout(); draw(); });

          function showEvent(k) {
            const e = data.events[k];
            viewer.replaceChildren(el('div', { class: 'head' }, el('b', { text: e.kind }), el('span', { text: e.message }), el('span', { class: 'muted', text: 'at ' + fmtMs(e.t) }),
              e.ex >= 0 ? el('a', { class: 'exlink', text: 'show the exchange', onclick: () => select(e.ex, true) }) : null));
          }
          function select(i, focus) {
            selected = i;
            const raw = lines.line(i), obj = raw ? JSON.parse(raw) : null;
            const c = conns[conn[i]];
            const head = el('div', { class: 'head' }, el('b', { text: exchangeTitle(obj) }), el('span', { class: 'muted', text: 'at ' + fmtMs(start[i]) + ' · ' + c.client + ' → ' + c.upstream }));
            if (flags[i] & 1) head.append(el('span', { class: 'err', text: 'error' }));
            const related = data.events.filter((e) => e.ex === i);
            const found = (findingsOf.get(i) || []).map((k) => check.findings[k]);
            const findingHeads = found.slice(0, 6).map((f) => el('div', { class: 'head finding-of', data_finding: f.id }, el('b', { style: 'color:var(--find)', text: f.id }), el('span', { text: f.message })));
            if (found.length > 6) findingHeads.push(el('div', { class: 'head muted', text: (found.length - 6) + ' more findings name this exchange' }));
            viewer.replaceChildren(head, ...findingHeads, ...related.map((e) => el('div', { class: 'head' }, el('b', { text: e.kind }), el('span', { text: e.message }))), exchangeBody(obj, raw, null));
            viewer.dataset.exchange = i; viewer.dataset.connection = c.id; viewer.dataset.correlationId = ex.corr[i]; viewer.dataset.api = apis[api[i]];
            if (focus) {
              if (!connOn[conn[i]] || !apiOn[api[i]] || (searchHits && !searchHits.has(i))) { connOn[conn[i]] = 1; apiOn[api[i]] = 1; searchHits = null; searchBox.value = ''; searchInfo.textContent = ''; connChips.querySelectorAll('input')[conn[i]].checked = true; apiChips.querySelectorAll('input')[api[i]].checked = true; refilter(); }
              showRange(start[i], end[i]);
              const r = rows.indexOf(conn[i]);
              if (r >= 0) scroller.scrollTop = Math.max(0, r * ROW - 2 * ROW);
              scroller.scrollIntoView({ block: 'nearest' });
            }
            draw();
          }

          // Findings.
          if (check) {
            const sec = el('section', { id: 'findings' }, el('h2', { text: check.clean ? 'check: clean' : 'Findings (' + check.summary.findings + ', ' + check.findings.length + ' listed)' }));
            const ul = el('ul', { class: 'findings' });
            // Findings that say the same (the same summary, or message) are one entry, ×N, as in
            // check's text report; each occurrence's exchanges stay linked.
            const groups = [], byKey = new Map();
            check.findings.forEach((f, k) => {
              const key = f.id + '\u0000' + (f.summary || f.message);
              let g = byKey.get(key);
              if (!g) { g = { f, items: [] }; byKey.set(key, g); groups.push(g); }
              g.items.push(k);
            });
            const link = (k, j) => {
              const r = check.findings[k].exchanges[j], i = data.findingExchanges[k][j];
              return el('a', { class: 'exlink', href: '#x=' + r.connection + ':' + r.correlationId, data_exchange: i, data_connection: r.connection, data_correlation_id: r.correlationId, data_api: r.apiName, data_finding_index: k,
                onclick: (e) => { e.preventDefault(); if (i >= 0) { select(i, true); history.replaceState(null, '', '#x=' + r.connection + ':' + r.correlationId); } },
                text: 'conn ' + r.connection + ' #' + r.correlationId + ' ' + r.apiName });
            };
            const SHOWN = 12;
            for (const g of groups) {
              const key = g.f.summary || g.f.message;
              const links = el('div');
              // The first exchange of each occurrence (the one that shows it), then the others it involves.
              const all = [];
              g.items.forEach((k) => all.push([k, 0]));
              g.items.forEach((k) => check.findings[k].exchanges.forEach((_, j) => { if (j > 0) all.push([k, j]); }));
              const seen = new Set(), uniq = all.filter(([k, j]) => { const r = check.findings[k].exchanges[j]; if (!r) return false; const t = r.connection + ':' + r.correlationId; if (seen.has(t)) return false; seen.add(t); return true; });
              uniq.slice(0, SHOWN).forEach(([k, j]) => links.append(link(k, j)));
              if (uniq.length > SHOWN) {
                const more = el('button', { text: 'all ' + uniq.length + ' exchanges', onclick: () => { more.remove(); uniq.slice(SHOWN).forEach(([k, j]) => links.append(link(k, j))); } });
                links.append(more);
              }
              ul.append(el('li', { class: 'finding' + (g.f.level === 'lint' ? ' lvl-lint' : ''), data_finding: g.f.id, data_count: g.items.length },
                el('span', { class: 'fid', text: g.f.id }), el('span', { class: 'muted', text: g.f.title + ' — ' }), el('span', { class: 'msg', text: key }),
                g.items.length > 1 ? el('b', { text: ' ×' + g.items.length }) : null,
                g.f.message !== key ? el('div', { class: 'muted', text: 'first: ' + g.f.message }) : null, links));
            }
            sec.append(ul);
            const kept = {}; check.findings.forEach((f) => (kept[f.id] = (kept[f.id] || 0) + 1));
            for (const id in check.summary.byInvariant) if (check.summary.byInvariant[id] > (kept[id] || 0)) sec.append(el('div', { class: 'muted', text: id + ': ' + (check.summary.byInvariant[id] - (kept[id] || 0)) + ' more findings not listed (check --max-findings)' }));
            for (const note of check.notes) sec.append(el('div', { class: 'muted', text: 'note: ' + note }));
            main.append(sec);
          }

          // Per-API latency and errors: what `stats` prints, drawn on a log scale.
          const sec = el('section', { id: 'stats' }, el('h2', { text: 'Latency and errors per API' }));
          const lat = s.apis.flatMap((a) => [a.latencyP50Ns, a.latencyMaxNs]).filter((x) => x !== null && x > 0);
          const lo = Math.log10(Math.max(1000, Math.min(...lat, 1e6)) / 2), hi = Math.log10(Math.max(...lat, 1e6) * 1.5);
          const PW = 360, sx = (ns) => 4 + (Math.log10(Math.max(ns, 1)) - lo) / (hi - lo) * (PW - 8);
          const NS = 'http://www.w3.org/2000/svg';
          const svg = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
          const table = el('table', { id: 'api-stats' }, el('tr', null, ...['API', 'count', 'p50', 'p99', 'max', 'latency (log scale: ▮ p50–p99, | max)', 'errors', 'unanswered', 'req B', 'resp B'].map((h) => el('th', { text: h }))));
          for (const a of s.apis) {
            const k = apis.indexOf(a.apiName);
            const plot = svg('svg', { width: PW, height: 16, role: 'img' });
            plot.append(svg('line', { x1: 4, x2: PW - 4, y1: 8, y2: 8, stroke: '#e3e7ec' }));
            if (a.latencyP50Ns !== null) {
              const x50 = sx(a.latencyP50Ns), x99 = sx(a.latencyP99Ns), xm = sx(a.latencyMaxNs);
              plot.append(svg('rect', { x: x50, y: 3, width: Math.max(2, x99 - x50), height: 10, fill: k >= 0 ? apiColor(k) : '#888', rx: 2 }));
              plot.append(svg('rect', { x: xm - 1, y: 1, width: 2, height: 14, fill: '#1d232b' }));
              const t = svg('title', {}); t.textContent = 'p50 ' + fmtNs(a.latencyP50Ns) + ', p99 ' + fmtNs(a.latencyP99Ns) + ', max ' + fmtNs(a.latencyMaxNs); plot.append(t);
            }
            const errs = Object.entries(a.errors).map(([k2, v]) => k2 + '×' + v);
            if (a.undecodable) errs.push('undecodable×' + a.undecodable);
            table.append(el('tr', { class: 'api-row', data_api: a.apiName, data_count: a.count },
              el('td', null, el('span', { class: 'sw', style: 'background:' + (k >= 0 ? apiColor(k) : '#888') }), ' ' + a.apiName + ' (' + a.apiKey + ')'),
              el('td', { class: 'num', text: a.count }), el('td', { class: 'num', text: fmtNs(a.latencyP50Ns) }), el('td', { class: 'num', text: fmtNs(a.latencyP99Ns) }), el('td', { class: 'num', text: fmtNs(a.latencyMaxNs) }),
              el('td', null, plot), el('td', { class: errs.length ? 'err' : 'muted', text: errs.length ? errs.join(' ') : '–' }), el('td', { class: 'num', text: a.unanswered || '–' }),
              el('td', { class: 'num', text: a.requestBytes }), el('td', { class: 'num', text: a.responseBytes })));
          }
          const axis = el('div', { class: 'muted', style: 'font-size:11px' }, 'scale: ' + fmtNs(Math.pow(10, lo)) + ' … ' + fmtNs(Math.pow(10, hi)));
          sec.append(table, axis);
          main.append(sec);

          refilter();
          // #x=CONN:CORR opens that exchange (links from findings, bookmarks, tests).
          function fromHash() {
            const m = /^#x=(\d+):(-?\d+)$/.exec(location.hash);
            if (!m) return;
            const c = conns.findIndex((x) => String(x.id) === m[1]);
            if (c < 0) return;
            for (const i of byConn[c]) if (String(ex.corr[i]) === m[2]) { select(i, true); return; }
          }
          window.addEventListener('hashchange', fromHash);
          done(fromHash);
        }

        // ---------------------------------------------------------------- diff and matrix
        function comparisonReport() {
          const linesA = new LineStore('lines-a');
          const isMatrix = data.kind === 'matrix';
          if (isMatrix) {
            const m = data.matrix;
            $('title').textContent = 'kafkatape matrix — ' + m.capture;
            $('summary').append(el('b', { class: m.allMatch ? 'ok' : 'err', text: m.allMatch ? 'every target matches the recording' : 'targets differ from the recording' }),
              ' · ' + m.targets.length + ' targets');
            const t = el('table', { id: 'matrix' }, el('tr', null, el('th', { text: 'API' }), el('th', { text: 'exchanges' }), ...m.targets.map((x) => el('th', { data_target: x.name, text: x.name + (x.matchesRecording ? ' ✓' : '') }))));
            for (const a of m.apis) t.append(el('tr', { data_api: a.api }, el('td', { text: a.api }), el('td', { class: 'num', text: a.exchanges }),
              ...m.targets.map((x) => { const d = a.differing[x.name]; return el('td', { class: d ? 'err num' : 'ok num', data_cell: a.api, data_target: x.name, data_differing: d, text: d ? d + ' differ' : '=' }); })));
            main.append(el('h2', { text: 'Targets against the recording' }), t);
            if (m.groups.length) {
              const g = el('table', { id: 'groups' }, el('tr', null, el('th', { text: 'API' }), el('th', { text: 'exchanges' }), ...m.targets.map((x) => el('th', { text: x.name }))));
              for (const grp of m.groups) g.append(el('tr', { data_api: grp.api }, el('td', { text: grp.api }), el('td', { class: 'num', text: grp.count }),
                ...m.targets.map((x) => { const c = grp.targets[x.name]; return el('td', { class: 'val st-' + c.status, text: c.status === 'differs' ? c.side + ' ' + c.path + ': ' + c.recorded + ' → ' + c.replayed : c.status === 'same' ? '=' : 'not sent' }); })));
              main.append(el('h2', { text: 'Groups of exchanges that behaved alike' }), g);
            }
            if (m.pairs.length) main.append(el('h2', { text: 'Targets against each other' }), el('ul', null, ...m.pairs.map((p) => el('li', { class: p.equivalent ? 'ok' : 'err', text: p.a + ' vs ' + p.b + ': ' + (p.equivalent ? 'equivalent' : p.differing + ' differ' + (p.first ? ' — first: ' + p.first : '')) }))));
          } else {
            const d = data.comparisons[0].diff;
            $('title').textContent = 'kafkatape diff — A ' + d.a + ' · B ' + d.b;
            $('summary').append(el('b', { class: d.equivalent ? 'ok' : 'err', id: 'verdict', text: d.equivalent ? 'equivalent' : 'NOT equivalent' }),
              ' · ' + d.summary.compared + ' compared, ' + d.summary.differ + ' differ, ' + d.summary.onlyInA + ' only in A, ' + d.summary.onlyInB + ' only in B');
          }
          let firstDiffer = null;
          data.comparisons.forEach((cmp, ci) => {
            const d = cmp.diff, linesB = new LineStore(cmp.bLines);
            const box = el('section', { class: 'cmp', data_comparison: ci, data_target: cmp.name });
            box.append(el('h2', { text: cmp.name ? 'Recording (A) vs ' + cmp.name + ' (B)' + (cmp.matches ? ' — matches' : '') : 'A: ' + d.a + ' · B: ' + d.b }));
            if (d.warnings.length) box.append(...d.warnings.map((w) => el('div', { class: 'muted', text: 'warning: ' + w })));
            let showSame = false;
            const table = el('table', { class: 'exchanges' });
            const viewer = el('div', { class: 'viewer', data_role: 'diff-viewer' }, el('div', { class: 'head muted', text: 'Click an exchange to see A and B side by side, differing fields highlighted.' }));
            let flat = 0;
            const rowsOf = [];
            d.connections.forEach((c) => {
              const head = el('tr', { class: 'conn-head' }, el('th', { colspan: 6, text: (c.a ? 'A conn ' + c.a.id + ' (' + c.a.role + ')' : 'A: —') + '  ~  ' + (c.b ? 'B conn ' + c.b.id + ' (' + c.b.role + ')' : 'B: —') + (!c.a || !c.b ? ' · connection on one side only' : '') }));
              rowsOf.push({ head, rows: [] });
              c.exchanges.forEach((e) => {
                const li = cmp.lines[flat++];
                const entry = { e, li, tr: null };
                rowsOf[rowsOf.length - 1].rows.push(entry);
                if (e.status !== 'same' && !firstDiffer) firstDiffer = { ci, entry };
              });
            });
            const ref = (r) => r ? 'conn ' + r.connection + ' #' + r.position + ' (corr ' + r.correlationId + ')' : '—';
            function open(entry) {
              table.querySelectorAll('tr.selected').forEach((t) => t.classList.remove('selected'));
              if (entry.tr) entry.tr.classList.add('selected');
              const e = entry.e, marksA = { request: new Trie(), response: new Trie() }, marksB = { request: new Trie(), response: new Trie() };
              let any = { request: false, response: false };
              for (const df of e.differences) { marksA[df.side].add(df.path); marksB[df.side].add(df.path); any[df.side] = true; }
              for (const s of ['request', 'response']) if (!any[s]) { marksA[s] = null; marksB[s] = null; }
              const rawA = entry.li[0] >= 0 ? linesA.line(entry.li[0]) : null, rawB = entry.li[1] >= 0 ? linesB.line(entry.li[1]) : null;
              const oa = rawA ? JSON.parse(rawA) : null, ob = rawB ? JSON.parse(rawB) : null;
              const diffs = el('table', { class: 'differences' }, el('tr', null, ...['side', 'path', 'A', 'B'].map((h) => el('th', { text: h }))),
                ...e.differences.map((df) => el('tr', { class: 'difference', data_path: df.path, data_side: df.side }, el('td', { text: df.side }), el('td', { class: 'path', text: df.path }),
                  el('td', { class: 'val', text: df.aPresent ? JSON.stringify(df.a) : '(absent)' }), el('td', { class: 'val', text: df.bPresent ? JSON.stringify(df.b) : '(absent)' }))));
              // Request beside request, response beside response: A on the left, B on the right.
              const half = (o, v, m, missing, name) => el('div', { data_side: name },
                !o ? el('div', { class: 'muted', text: missing }) : v === undefined || v === null ? el('div', { class: 'z tree', text: '(none)' }) : el('div', { class: 'tree' }, tree(null, v, m, 0, '')));
              const missA = e.a ? 'not kept' : 'not sent in A', missB = e.b ? (cmp.name ? 'the replayed capture was not kept' : 'not kept') : 'not sent in B';
              const part = (what) => el('div', { class: 'viewer', data_part: what }, el('div', { class: 'head' }, el('b', { text: what })),
                el('div', { class: 'cols' }, half(oa, oa && oa[what], marksA[what], missA, 'A'), half(ob, ob && ob[what], marksB[what], missB, 'B')));
              const rawBox = el('details', null, el('summary', { style: 'padding:2px 8px;cursor:pointer', text: 'dump --json lines' }),
                el('div', { class: 'cols' }, el('pre', { class: 'raw', text: rawA || '' }), el('pre', { class: 'raw', text: rawB || '' })));
              viewer.replaceChildren(el('div', { class: 'head' }, el('b', { text: e.api + ' v' + e.apiVersion }), el('span', { class: 'st-' + e.status, text: e.status }), el('span', { class: 'muted', text: 'A ' + ref(e.a) + ' · B ' + ref(e.b) })),
                ...e.notes.map((n) => el('div', { class: 'muted', style: 'padding:2px 8px', text: 'note: ' + n })),
                e.differences.length ? diffs : null,
                el('div', { class: 'cols', style: 'font-weight:600' }, el('div', { text: 'A · ' + exchangeTitle(oa) }), el('div', { text: 'B · ' + exchangeTitle(ob) })),
                part('request'), part('response'), rawBox);
              viewer.dataset.status = e.status; viewer.dataset.api = e.api;
            }
            function render() {
              table.replaceChildren(el('tr', null, ...['API', 'status', 'A', 'B', 'differences', 'first difference'].map((h) => el('th', { text: h }))));
              for (const g of rowsOf) {
                const rows = g.rows.filter((r) => showSame || r.e.status !== 'same');
                if (!rows.length) continue;
                table.append(g.head);
                for (const r of rows) {
                  const e = r.e, first = e.differences[0];
                  r.tr = el('tr', { class: 'xrow', data_status: e.status, data_api: e.api, onclick: () => open(r) },
                    el('td', { text: e.api + ' v' + e.apiVersion }), el('td', { class: 'st-' + e.status, text: e.status }), el('td', { text: ref(e.a) }), el('td', { text: ref(e.b) }),
                    el('td', { class: 'num', text: e.differences.length || '' }), el('td', { class: 'path', text: first ? first.side + ' ' + first.path : '' }));
                  table.append(r.tr);
                }
              }
            }
            const total = rowsOf.reduce((t, g) => t + g.rows.length, 0), differing = rowsOf.reduce((t, g) => t + g.rows.filter((r) => r.e.status !== 'same').length, 0);
            const toggle = el('label', { class: 'chip' }, el('input', { type: 'checkbox', onchange: (ev) => { showSame = ev.target.checked; render(); } }), 'show the ' + (total - differing) + ' equivalent exchanges too');
            box.append(el('div', { class: 'bar' }, el('span', { text: differing + ' of ' + total + ' exchanges differ or are on one side only' }), toggle), el('div', { style: 'max-height:40vh;overflow:auto' }, table), viewer);
            render();
            box.openEntry = open;
            main.append(box);
          });
          done(() => { if (firstDiffer) main.querySelector('[data-comparison="' + firstDiffer.ci + '"]').openEntry(firstDiffer.entry); });
        }

        try {
          if (data.kind === 'capture') captureReport(); else comparisonReport();
        } catch (err) {
          document.body.dataset.state = 'error';
          document.body.dataset.error = String(err && err.stack || err);
          main.append(el('pre', { class: 'err', text: 'The report failed to draw: ' + (err && err.stack || err) }));
        }
        })();
        """#
}
