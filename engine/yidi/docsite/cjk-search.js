/* yidi: Chinese search for MkDocs' built-in (lunr) search, without a dictionary.
 *
 * The lunr.zh.js that MkDocs ships needs a Node module (jieba) to split Chinese
 * text into words and does nothing useful in a browser; lunr.multi keeps lunr's
 * default tokenizer, which splits only on spaces, so a whole Chinese sentence
 * became one token and "新生儿" found nothing. This file is appended to
 * search/lunr.zh.js by yidi's MkDocs hook. It indexes every run of Chinese
 * characters as its single characters and overlapping character pairs
 * (the usual dictionary-free approach), and turns a Chinese query into the
 * pairs it is made of, all required: "新生儿" → "+新生 +生儿".
 */
;(function (lunr) {
  if (!lunr || lunr.yidiCjk) { return; }
  lunr.yidiCjk = true;
  var CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
  var RUNS = /[\u3400-\u9fff\uf900-\ufaff]+|[^\u3400-\u9fff\uf900-\ufaff]+/g;
  var base = lunr.tokenizer;

  function grams(run, pairsOnly) {
    var out = [];
    if (run.length === 1) { return [run]; }
    for (var i = 0; i < run.length; i++) {
      if (!pairsOnly) { out.push(run.charAt(i)); }
      if (i + 1 < run.length) { out.push(run.substr(i, 2)); }
    }
    return out;
  }

  var tokenizer = function (obj, metadata) {
    var out = [];
    base(obj, metadata).forEach(function (token) {
      var text = token.toString();
      if (!CJK.test(text)) { out.push(token); return; }
      (text.match(RUNS) || []).forEach(function (piece) {
        var pieces = CJK.test(piece) ? grams(piece, false) : [piece];
        pieces.forEach(function (p) { out.push(token.clone(function () { return p; })); });
      });
    });
    return out;
  };
  tokenizer.separator = base.separator;
  lunr.tokenizer = tokenizer;
  // lunr's tokenizer reads its separator from lunr.tokenizer; keep one object.

  var search = lunr.Index.prototype.search;
  lunr.Index.prototype.search = function (query) {
    var terms = String(query).split(/\s+/).map(function (term) {
      if (!CJK.test(term) || /[+\-:^~*]/.test(term)) { return term; }
      var out = [];
      (term.match(RUNS) || []).forEach(function (piece) {
        if (CJK.test(piece)) {
          grams(piece, true).forEach(function (g) { out.push('+' + g); });
        } else if (piece.replace(/[\s，。、；：！？（）《》“”‘’【】]/g, '')) {
          out.push('+' + piece);
        }
      });
      return out.join(' ');
    });
    return search.call(this, terms.join(' '));
  };
})(typeof lunr !== 'undefined' ? lunr : undefined);
