// A page that runs the LuCI view (luci-app-bitmesh's status.js) outside LuCI: stubs of
// the client-side API it uses (view.extend, rpc.declare, poll.add, dom.content, E, _)
// and a recorded `luci.bitmesh overview` answer, plus enough of LuCI's table styling
// for a readable screenshot. The view source is evaluated the way LuCI's loader does:
// its body becomes a function of the required classes and its `return` is the view.

const STYLE = `
body { font: 13px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #404040; background: #f5f5f5; }
header { background: #003f6b; color: #fff; padding: 10px 24px; font-size: 18px; }
#maincontent { max-width: 1100px; margin: 16px auto; background: #fff; padding: 8px 24px 24px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
h2 { font-size: 22px; margin: 12px 0; } h3 { font-size: 15px; margin: 18px 0 6px; border-bottom: 1px solid #ddd; }
table.table { width: 100%; border-collapse: collapse; } .th { text-align: left; background: #eef2f5; }
.th, .td { padding: 4px 8px; border-bottom: 1px solid #eee; font-size: 12px; }
.alert-message.warning { background: #fcf8e3; padding: 8px; }
`;

/** The harness page for one view source and one overview document. */
export function harnessHtml(viewSource: string, overview: unknown): string {
  // JSON.stringify output is safe inside <script> once '<' is escaped.
  const data = JSON.stringify(overview).replace(/</g, '\\u003c');
  const source = JSON.stringify(viewSource).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>BitMesh - LuCI</title><style>${STYLE}</style></head>
<body><header>OpenWrt · Status › BitMesh</header><div id="maincontent"></div>
<script>
'use strict';
(function () {
  var OVERVIEW = ${data};
  function _(s) { return s; }
  function append(node, c) {
    if (c == null) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(node, x); }); return; }
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  function E(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] != null) node.setAttribute(k, attrs[k]); });
    append(node, children);
    return node;
  }
  var calls = [];
  var rpc = { declare: function (d) { calls.push(d.object + '.' + d.method); return function () { return Promise.resolve(OVERVIEW); }; } };
  var polls = [];
  var poll = { add: function (fn, interval) { polls.push(interval); } };
  var dom = { content: function (node, c) { while (node.firstChild) node.removeChild(node.firstChild); append(node, c); } };
  var view = { extend: function (proto) { return proto; } };
  var v = new Function('view', 'rpc', 'poll', 'dom', 'E', '_', ${source})(view, rpc, poll, dom, E, _);
  Promise.resolve(v.load()).then(function (d) {
    document.getElementById('maincontent').appendChild(v.render(d));
    document.body.setAttribute('data-rpc', calls.join(','));
    document.body.setAttribute('data-poll', polls.join(','));
    document.body.setAttribute('data-rendered', 'yes');
  }).catch(function (e) {
    document.body.setAttribute('data-error', String(e && e.stack || e));
  });
})();
</script></body></html>
`;
}
