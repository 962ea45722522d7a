/* placevoice field mode: a small evaluator for XLSForm relevance expressions.
   Handles ${name}, strings, numbers, = != < <= > >=, and, or, not(), selected(),
   count-selected(), string-length(), true(), false() and parentheses. Anything else
   throws, and the caller then shows the question (the server decides in the end). */
(function (global) {
  "use strict";

  function tokenize(text) {
    var tokens = [];
    var i = 0;
    while (i < text.length) {
      var ch = text[i];
      if (/\s/.test(ch)) { i += 1; continue; }
      if (ch === "$" && text[i + 1] === "{") {
        var end = text.indexOf("}", i);
        if (end < 0) { throw new Error("unclosed reference"); }
        tokens.push({ t: "ref", v: text.slice(i + 2, end) });
        i = end + 1; continue;
      }
      if (ch === "'" || ch === '"') {
        var close = text.indexOf(ch, i + 1);
        if (close < 0) { throw new Error("unclosed string"); }
        tokens.push({ t: "str", v: text.slice(i + 1, close) });
        i = close + 1; continue;
      }
      var two = text.slice(i, i + 2);
      if (two === "!=" || two === "<=" || two === ">=") { tokens.push({ t: "op", v: two }); i += 2; continue; }
      if ("=<>".indexOf(ch) >= 0) { tokens.push({ t: "op", v: ch }); i += 1; continue; }
      if ("(),".indexOf(ch) >= 0) { tokens.push({ t: ch }); i += 1; continue; }
      var num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (num) { tokens.push({ t: "num", v: parseFloat(num[0]) }); i += num[0].length; continue; }
      var word = /^[A-Za-z_][\w-]*/.exec(text.slice(i));
      if (word) { tokens.push({ t: "word", v: word[0] }); i += word[0].length; continue; }
      throw new Error("unexpected " + ch);
    }
    return tokens;
  }

  function asText(value) {
    if (Array.isArray(value)) { return value.join(" "); }
    if (value === null || value === undefined) { return ""; }
    return String(value);
  }

  function truthy(value) {
    if (typeof value === "boolean") { return value; }
    if (typeof value === "number") { return value !== 0 && !isNaN(value); }
    return asText(value) !== "";
  }

  function compare(op, a, b) {
    var na = typeof a === "number" ? a : parseFloat(asText(a));
    var nb = typeof b === "number" ? b : parseFloat(asText(b));
    var numeric = !isNaN(na) && !isNaN(nb) && (typeof a === "number" || typeof b === "number" || op.length === 1 && op !== "=");
    if (op === "=" || op === "!=") {
      var same = numeric ? na === nb : asText(a) === asText(b);
      return op === "=" ? same : !same;
    }
    if (isNaN(na) || isNaN(nb)) { return false; }
    if (op === "<") { return na < nb; }
    if (op === "<=") { return na <= nb; }
    if (op === ">") { return na > nb; }
    return na >= nb;
  }

  function evaluate(expression, values) {
    var tokens = tokenize(expression);
    var pos = 0;
    function peek() { return tokens[pos]; }
    function take(type) {
      var token = tokens[pos];
      if (!token || (type && token.t !== type)) { throw new Error("expected " + type); }
      pos += 1;
      return token;
    }
    function orExpr() {
      var value = andExpr();
      while (peek() && peek().t === "word" && peek().v === "or") { take(); var right = andExpr(); value = truthy(value) || truthy(right); }
      return value;
    }
    function andExpr() {
      var value = cmpExpr();
      while (peek() && peek().t === "word" && peek().v === "and") { take(); var right = cmpExpr(); value = truthy(value) && truthy(right); }
      return value;
    }
    function cmpExpr() {
      var left = primary();
      if (peek() && peek().t === "op") { var op = take().v; return compare(op, left, primary()); }
      return left;
    }
    function args() {
      var list = [];
      take("(");
      if (peek() && peek().t === ")") { take(")"); return list; }
      list.push(orExpr());
      while (peek() && peek().t === ",") { take(","); list.push(orExpr()); }
      take(")");
      return list;
    }
    function primary() {
      var token = take();
      if (token.t === "(") { var inner = orExpr(); take(")"); return inner; }
      if (token.t === "ref") { return values[token.v] === undefined ? "" : values[token.v]; }
      if (token.t === "str" || token.t === "num") { return token.v; }
      if (token.t === "word") {
        var a = args();
        switch (token.v) {
          case "not": return !truthy(a[0]);
          case "true": return true;
          case "false": return false;
          case "selected": return asText(a[0]).split(/\s+/).indexOf(asText(a[1])) >= 0;
          case "count-selected": return asText(a[0]).split(/\s+/).filter(Boolean).length;
          case "string-length": return asText(a[0]).length;
          default: throw new Error("unknown function " + token.v);
        }
      }
      throw new Error("unexpected token");
    }
    var result = orExpr();
    if (pos !== tokens.length) { throw new Error("trailing input"); }
    return truthy(result);
  }

  global.PlacevoiceRelevance = { evaluate: evaluate };
}(window));
