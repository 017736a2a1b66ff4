/* Self-study quiz in the built book: grades in the browser with the rules of
   book/quizzes/README.md (the same as course/quiz/types/; tests/quiz-vectors.yaml and
   tests/quiz-rule-vectors.yaml prove both agree) and keeps answers in localStorage, keyed by
   question id.
   Inlined once per quiz; the guard below makes repeated copies harmless. */
(function () {
  "use strict";
  if (window.courseQuiz) { window.courseQuiz.initAll(); return; }
  var PREFIX = "course-quiz:";
  var EPSILON = 1e-9;
  var WORD = "\\p{L}\\p{N}_";
  var QUOTES = { "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
    "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-" };
  // The words the quizzes show, the same as in Jupyter (course/quiz/assets/strings.json, with
  // each question type's own hint and empty-answer words), written into the page once per quiz.
  var S = null;

  function strings() {
    if (!S) S = JSON.parse(document.querySelector("script.cq-strings").textContent);
    return S;
  }
  function say(key, values) {
    return String(strings()[key]).replace(/\{(\w+)\}/g, function (m, name) {
      return values && name in values ? String(values[name]) : m;
    });
  }

  function normalise(text) {
    var s = String(text).normalize("NFKC").toLowerCase();
    s = s.replace(/[\u2018\u2019\u201a\u201b\u2032\u201c\u201d\u201e\u2010-\u2015\u2212]/g,
      function (c) { return QUOTES[c]; });
    s = s.replace(new RegExp("[^" + WORD + "\\s'-]", "gu"), "");
    s = s.replace(new RegExp("(?<![" + WORD + "])['-]+|['-]+(?![" + WORD + "])", "gu"), "");
    return s.split(/\s+/).filter(Boolean).join(" ");
  }

  function result(score, feedback) {
    score = Math.round(Math.max(0, Math.min(1, score)) * 10000) / 10000;
    var verdict = score === 1 ? "correct" : score === 0 ? "incorrect" : "partial";
    return { verdict: verdict, score: score, feedback: feedback };
  }
  function noAnswer() { return result(0, [say("no_answer")]); }

  // An answer that was not given: a check of it is a slip, not a wrong answer.
  function isEmpty(r) {
    return r === null || r === undefined || (Array.isArray(r) && !r.length) ||
      (typeof r === "object" && !Array.isArray(r) && !Object.keys(r).length) ||
      (typeof r === "string" && !r.trim());
  }

  // Item ids in their chosen positions; null unless positions 1..n are each used once.
  function orderFromPositions(ids, positions) {
    var used = positions.filter(function (p) { return p !== null; }).slice()
      .sort(function (a, b) { return a - b; });
    for (var k = 0; k < ids.length; k++) if (used[k] !== k + 1) return null;
    if (used.length !== ids.length) return null;
    var order = [];
    positions.forEach(function (p, k) { order[p - 1] = ids[k]; });
    return order;
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function inputs(box, sel) { return Array.prototype.slice.call(box.querySelectorAll(sel)); }
  function checkedRadio(box) { return box.querySelector("input[type=radio]:checked"); }
  function setRadios(box, r) {
    inputs(box, "input[type=radio]").forEach(function (c) { c.checked = c.value === String(r); });
  }
  function textField(box) { return box.querySelector("input"); }

  /* One handler per question type (course/quiz/types/ has its Python twin): grade a response,
     read it from the form, write it back into the form. */
  var TYPES = {
    single_choice: {
      grade: function (q, r) {
        var o = q.options.find(function (x) { return x.id === r; });
        return o ? result(o.correct ? 1 : 0, [o.feedback]) : noAnswer();
      },
      read: function (q, box) { var c = checkedRadio(box); return c ? c.value : null; },
      write: setRadios
    },
    multiple_select: {
      grade: function (q, r) {
        var chosen = Array.isArray(r) ? r : [];
        if (!chosen.length) return noAnswer();
        var nCorrect = 0, right = 0, wrong = 0, feedback = [];
        q.options.forEach(function (o) {
          var picked = chosen.indexOf(o.id) >= 0;
          if (o.correct) nCorrect += 1;
          if (picked && o.correct) right += 1;
          if (picked && !o.correct) wrong += 1;
          if (picked || o.correct) feedback.push(o.feedback);
        });
        return result((right - wrong) / nCorrect, feedback);
      },
      read: function (q, box) {
        return inputs(box, "input[type=checkbox]:checked").map(function (c) { return c.value; });
      },
      write: function (box, r) {
        inputs(box, "input[type=checkbox]").forEach(function (c) {
          c.checked = (r || []).indexOf(c.value) >= 0;
        });
      }
    },
    true_false: {
      grade: function (q, r) {
        if (typeof r !== "boolean") return noAnswer();
        return result(r === q.answer ? 1 : 0, [r ? q.feedback_true : q.feedback_false]);
      },
      read: function (q, box) { var c = checkedRadio(box); return c ? c.value === "true" : null; },
      write: setRadios
    },
    numeric: {
      grade: function (q, r) {
        if (typeof r !== "number" || !isFinite(r)) return noAnswer();
        if (Math.abs(r - q.answer) <= q.tolerance + EPSILON) return result(1, [q.feedback_correct]);
        var m = (q.mistakes || []).find(function (x) {
          return Math.abs(r - x.value) <= x.tolerance + EPSILON;
        });
        return result(0, [m ? m.feedback : q.feedback_incorrect]);
      },
      read: function (q, box) {
        var n = textField(box).value.trim();
        return n === "" || isNaN(Number(n)) ? null : Number(n);
      },
      write: function (box, r) { textField(box).value = r == null ? "" : String(r); }
    },
    short_text: {
      grade: function (q, r) {
        var given = typeof r === "string" ? normalise(r) : "";
        if (!given) return noAnswer();
        var ok = q.accept.some(function (a) { return normalise(a) === given; }) ||
          (q.pattern != null && new RegExp("^(?:" + q.pattern + ")$").test(given));
        if (ok) return result(1, [q.feedback_correct]);
        var m = (q.mistakes || []).find(function (x) { return normalise(x.answer) === given; });
        return result(0, [m ? m.feedback : q.feedback_incorrect]);
      },
      read: function (q, box) { return textField(box).value; },
      write: function (box, r) { textField(box).value = r == null ? "" : String(r); }
    },
    ordering: {
      grade: function (q, r) {
        var ids = q.items.map(function (i) { return i.id; });
        var valid = Array.isArray(r) && r.length === ids.length &&
          r.slice().sort().join("\u0000") === ids.slice().sort().join("\u0000");
        if (!valid) return result(0, [say("order_incomplete")]);
        var inOrder = 0, pairs = 0;
        for (var a = 0; a < ids.length; a++) {
          for (var b = a + 1; b < ids.length; b++) {
            pairs += 1;
            if (r.indexOf(ids[a]) < r.indexOf(ids[b])) inOrder += 1;
          }
        }
        var feedback = q.items.filter(function (item, k) { return r[k] !== item.id; })
          .map(function (item) { return item.feedback; });
        return result(inOrder / pairs, feedback.length ? feedback : [say("order_all_right")]);
      },
      read: function (q, box) {
        var sels = inputs(box, "select");
        return orderFromPositions(
          sels.map(function (s) { return s.dataset.item; }),
          sels.map(function (s) { return s.value ? Number(s.value) : null; }));
      },
      write: function (box, r) {
        inputs(box, "select").forEach(function (s) {
          var k = (r || []).indexOf(s.dataset.item);
          s.value = k >= 0 ? String(k + 1) : "";
        });
      }
    },
    matching: {
      grade: function (q, r) {
        var given = r && typeof r === "object" && !Array.isArray(r) ? r : {};
        var right = 0;
        var feedback = q.pairs.map(function (p) {
          var g = Object.prototype.hasOwnProperty.call(given, p.id) ? given[p.id] : null;
          if (g === p.answer) right += 1;
          var mark = g === null ? say("mark_none") : g === p.answer ? say("mark_right")
            : say("mark_wrong", { given: esc(g) });
          return p.prompt + ": " + mark + " " + p.feedback;
        });
        return result(right / q.pairs.length, feedback);
      },
      read: function (q, box) {
        var out = {};
        inputs(box, "select").forEach(function (s) { if (s.value) out[s.dataset.pair] = s.value; });
        return out;
      },
      write: function (box, r) {
        inputs(box, "select").forEach(function (s) { s.value = (r || {})[s.dataset.pair] || ""; });
      }
    }
  };

  function grade(q, r) { return TYPES[q.type].grade(q, r); }

  function showResult(box, res) {
    var out = box.querySelector(".cq-feedback");
    out.className = "cq-feedback cq-" + res.verdict;
    out.innerHTML = "<p><strong>" + strings().verdict[res.verdict] + "</strong> (" +
      say("score", { score: res.score }) + ")</p><ul>" + res.feedback.map(function (f) {
        return "<li>" + f + "</li>";
      }).join("") + "</ul>";
  }

  function load(qid) {
    try { return JSON.parse(window.localStorage.getItem(PREFIX + qid)); } catch (e) { return null; }
  }
  function save(qid, value) {
    try { window.localStorage.setItem(PREFIX + qid, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function summarise(quiz, questions) {
    var total = 0, answered = 0;
    questions.forEach(function (q) {
      var s = load(q.id);
      if (s) { answered += 1; total += s.score; }
    });
    quiz.querySelector(".cq-summary").textContent = say("summary", {
      total: Math.round(total * 100) / 100, n: questions.length, checked: answered });
    updateMastery();
  }

  function updateMastery() {
    inputs(document, ".cq-mastery [data-questions]").forEach(function (row) {
      var ids = JSON.parse(row.dataset.questions), sum = 0, answered = 0;
      ids.forEach(function (id) { var s = load(id); if (s) { answered += 1; sum += s.score; } });
      var pct = ids.length ? Math.round(100 * sum / ids.length) : 0;
      row.querySelector(".cq-mastery-score").textContent = pct + "% (" + answered + " of " +
        ids.length + " answered)";
      var meter = row.querySelector("meter");
      if (meter) meter.value = pct;
    });
  }

  function initQuiz(quiz) {
    if (quiz.dataset.cqReady) return;
    quiz.dataset.cqReady = "1";
    var questions = JSON.parse(quiz.querySelector("script.cq-key").textContent);
    questions.forEach(function (q) {
      var box = document.getElementById("cq-" + q.id);
      var expl = box.querySelector(".cq-explanation");
      var explain = box.querySelector(".cq-explain");
      box.querySelector(".cq-check").addEventListener("click", function () {
        var r = TYPES[q.type].read(q, box);
        if (isEmpty(r)) {
          // Not graded and not saved: an empty check is a slip, not a wrong answer.
          var out = box.querySelector(".cq-feedback");
          out.className = "cq-feedback";
          out.textContent = strings().types[q.type].empty_hint || say("empty_hint");
          return;
        }
        var res = grade(q, r);
        showResult(box, res);
        save(q.id, { response: r, verdict: res.verdict, score: res.score });
        summarise(quiz, questions);
      });
      box.querySelector(".cq-retry").addEventListener("click", function () {
        TYPES[q.type].write(box, null);
        var out = box.querySelector(".cq-feedback");
        out.className = "cq-feedback";
        out.textContent = say("cleared");
        try { window.localStorage.removeItem(PREFIX + q.id); } catch (e) { /* private mode */ }
        summarise(quiz, questions);
        var first = box.querySelector("input, select");
        if (first) first.focus();
      });
      explain.addEventListener("click", function () {
        var open = expl.hidden;
        expl.hidden = !open;
        explain.setAttribute("aria-expanded", String(open));
        explain.textContent = say(open ? "hide_explanation" : "show_explanation");
      });
      var saved = load(q.id);
      if (saved) {
        TYPES[q.type].write(box, saved.response);
        showResult(box, grade(q, saved.response));
      }
    });
    summarise(quiz, questions);
  }

  function initAll() {
    inputs(document, ".cq-quiz").forEach(initQuiz);
    inputs(document, ".cq-reset-all").forEach(function (b) {
      if (b.dataset.cqReady) return;
      b.dataset.cqReady = "1";
      b.addEventListener("click", function () {
        Object.keys(window.localStorage).forEach(function (k) {
          if (k.indexOf(PREFIX) === 0) window.localStorage.removeItem(k);
        });
        window.location.reload();
      });
    });
    updateMastery();
  }

  window.courseQuiz = { grade: grade, normalise: normalise, isEmpty: isEmpty,
    orderFromPositions: orderFromPositions, types: TYPES, initAll: initAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
