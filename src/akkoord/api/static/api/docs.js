/* Renders the operations of Akkoord's OpenAPI document: no third-party code. */
(function () {
  "use strict";
  var root = document.getElementById("api-docs");
  if (!root) return;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function resolve(spec, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen < 20) {
      var path = schema.$ref.replace(/^#\//, "").split("/");
      schema = path.reduce(function (obj, key) { return obj && obj[key]; }, spec);
      seen += 1;
    }
    return schema || {};
  }

  function describe(spec, schema, depth) {
    schema = resolve(spec, schema);
    if (depth > 4) return "…";
    if (schema.anyOf) {
      return schema.anyOf.map(function (s) { return describe(spec, s, depth + 1); }).join(" | ");
    }
    if (schema.enum) return schema.enum.map(JSON.stringify).join(" | ");
    if (schema.type === "array") return "[" + describe(spec, schema.items || {}, depth + 1) + "]";
    if (schema.type === "object" || schema.properties) {
      var props = schema.properties || {};
      var required = schema.required || [];
      var pad = new Array(depth + 2).join("  ");
      var lines = Object.keys(props).map(function (name) {
        var mark = required.indexOf(name) >= 0 ? "" : "?";
        return pad + name + mark + ": " + describe(spec, props[name], depth + 1);
      });
      if (!lines.length) return "object";
      return "{\n" + lines.join(",\n") + "\n" + new Array(depth + 1).join("  ") + "}";
    }
    return (schema.type || "any") + (schema.format ? " (" + schema.format + ")" : "");
  }

  function render(spec) {
    root.textContent = "";
    if (spec.info && spec.info.description) root.appendChild(el("p", "", spec.info.description));
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      Object.keys(item).forEach(function (method) {
        var op = item[method];
        var box = el("section", "api-op " + method);
        var title = el("h3");
        title.appendChild(el("span", "method", method));
        title.appendChild(document.createTextNode(path));
        box.appendChild(title);
        if (op.summary) box.appendChild(el("p", "", op.summary));
        if (op.description) box.appendChild(el("p", "help", op.description));
        (op.parameters || []).forEach(function (param) {
          var text = param.in + " " + param.name + (param.required ? "" : "?") + ": " +
            describe(spec, param.schema || {}, 0);
          box.appendChild(el("p", "param", text));
        });
        var body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
        if (body) {
          box.appendChild(el("p", "", "Body:"));
          box.appendChild(el("pre", "", describe(spec, body.schema, 0)));
        }
        Object.keys(op.responses || {}).forEach(function (code) {
          var content = op.responses[code].content && op.responses[code].content["application/json"];
          if (code.charAt(0) === "2" && content) {
            box.appendChild(el("p", "", code + ":"));
            box.appendChild(el("pre", "", describe(spec, content.schema, 0)));
          }
        });
        var codes = Object.keys(op.responses || {}).filter(function (c) { return c.charAt(0) !== "2"; });
        if (codes.length) box.appendChild(el("p", "help", "Errors: " + codes.join(", ") + ' → {"error": {code, message, fields}}'));
        root.appendChild(box);
      });
    });
  }

  root.appendChild(el("p", "", root.dataset.loading));
  fetch(root.dataset.openapiUrl, { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(render)
    .catch(function () { root.textContent = root.dataset.failed; });
})();
