// Formulas (a JSON array on stdin) typeset by MathJax as display math, as a web page shows them: a JSON array of
// {svg} or {error} on stdout, one per formula. Used by training/web_render.py.
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
// Without 'noundefined', which would draw an unknown command's name as text: such formulas fail instead.
// Commands im2latex's formulas use that MathJax lacks: \boldmath (an error in TeX's math mode, which TeX skips),
// \vspace, text-mode \dag \ddag \o \O \l \L, plain TeX's \sp \sb, \slash, \sl, \footnotesize (a size MathJax lacks).
const tex = new TeX({
  packages: AllPackages.filter((p) => p !== 'noundefined'),
  macros: {
    boldmath: '', unboldmath: '', vspace: ['', 1], dag: '\\dagger', ddag: '\\ddagger', footnotesize: '\\small',
    sp: '^', sb: '_', sl: '\\it', slash: '/', o: '\\unicode{xF8}', O: '\\unicode{xD8}', l: '\\unicode{x142}',
    L: '\\unicode{x141}',
  },
  formatError: (jax, err) => { throw err; },
});
const svg = new SVG({fontCache: 'none'});
const doc = mathjax.document('', {InputJax: tex, OutputJax: svg});

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((formula) => {
    try {
      const node = doc.convert(formula, {display: true, em: 16, ex: 8, containerWidth: 100000});
      return {svg: adaptor.innerHTML(node)};
    } catch (err) {
      return {error: String(err.message || err)};
    }
  });
  process.stdout.write(JSON.stringify(out));
});
