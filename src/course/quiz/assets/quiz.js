/* Self-study quiz in the built book: grades in the browser with the rules of
   book/quizzes/README.md (the same as course/quiz/engine.py; tests/quiz-vectors.yaml proves
   both agree) and keeps answers in localStorage, keyed by question id.
   Inlined once per quiz; the guard below makes repeated copies harmless. */
(function () {
  "use strict";
  if (window.courseQuiz) { window.courseQuiz.initAll(); return; }
  var PREFIX = "course-quiz:";
  var EPSILON = 1e-9;
  var NO_ANSWER = "No answer given yet.";
  var WORD = "\\p{L}\\p{N}_";
  var QUOTES = { "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-",
    "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-" };

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

  var graders = {
    single_choice: function (q, r) {
      var o = q.options.find(function (x) { return x.id === r; });
      return o ? result(o.correct ? 1 : 0, [o.feedback]) : result(0, [NO_ANSWER]);
    },
    multiple_select: function (q, r) {
      var chosen = Array.isArray(r) ? r : [];
      var nCorrect = 0, right = 0, wrong = 0, feedback = [];
      q.options.forEach(function (o) {
        var picked = chosen.indexOf(o.id) >= 0;
        if (o.correct) nCorrect += 1;
        if (picked && o.correct) right += 1;
        if (picked && !o.correct) wrong += 1;
        if (picked || o.correct) feedback.push(o.feedback);
      });
      return result((right - wrong) / nCorrect, chosen.length ? feedback : [NO_ANSWER]);
    },
    true_false: function (q, r) {
      if (typeof r !== "boolean") return result(0, [NO_ANSWER]);
      return result(r === q.answer ? 1 : 0, [r ? q.feedback_true : q.feedback_false]);
    },
    numeric: function (q, r) {
      if (typeof r !== "number" || !isFinite(r)) return result(0, [NO_ANSWER]);
      if (Math.abs(r - q.answer) <= q.tolerance + EPSILON) return result(1, [q.feedback_correct]);
      var m = (q.mistakes || []).find(function (x) {
        return Math.abs(r - x.value) <= x.tolerance + EPSILON;
      });
      return result(0, [m ? m.feedback : q.feedback_incorrect]);
    },
    short_text: function (q, r) {
      var given = typeof r === "string" ? normalise(r) : "";
      if (!given) return result(0, [NO_ANSWER]);
      var ok = q.accept.some(function (a) { return normalise(a) === given; }) ||
        (q.pattern != null && new RegExp("^(?:" + q.pattern + ")$").test(given));
      if (ok) return result(1, [q.feedback_correct]);
      var m = (q.mistakes || []).find(function (x) { return normalise(x.answer) === given; });
      return result(0, [m ? m.feedback : q.feedback_incorrect]);
    },
    ordering: function (q, r) {
      var ids = q.items.map(function (i) { return i.id; });
      var valid = Array.isArray(r) && r.length === ids.length &&
        r.slice().sort().join("\u0000") === ids.slice().sort().join("\u0000");
      if (!valid) {
        return result(0, ["Give each item a different position, using every position once."]);
      }
      var inOrder = 0, pairs = 0;
      for (var a = 0; a < ids.length; a++) {
        for (var b = a + 1; b < ids.length; b++) {
          pairs += 1;
          if (r.indexOf(ids[a]) < r.indexOf(ids[b])) inOrder += 1;
        }
      }
      var feedback = q.items.filter(function (item, k) { return r[k] !== item.id; })
        .map(function (item) { return item.feedback; });
      return result(inOrder / pairs, feedback.length ? feedback : ["Every item is in its place."]);
    },
    matching: function (q, r) {
      var given = r && typeof r === "object" && !Array.isArray(r) ? r : {};
      var right = 0;
      var feedback = q.pairs.map(function (p) {
        var g = Object.prototype.hasOwnProperty.call(given, p.id) ? given[p.id] : null;
        if (g === p.answer) right += 1;
        var mark = g === null ? "no answer yet." : g === p.answer ? "right." : "not " + esc(g) + ".";
        return p.prompt + ": " + mark + " " + p.feedback;
      });
      return result(right / q.pairs.length, feedback);
    }
  };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  function isEmpty(r) {
    return r === null || r === "" || (Array.isArray(r) && !r.length) ||
      (typeof r === "object" && !Array.isArray(r) && !Object.keys(r).length) ||
      (typeof r === "string" && !r.trim());
  }

  function grade(q, r) { return graders[q.type](q, r); }

  /* ---- reading and writing the form ---- */
  function inputs(box, sel) { return Array.prototype.slice.call(box.querySelectorAll(sel)); }

  function readResponse(q, box) {
    switch (q.type) {
      case "single_choice":
      case "true_false": {
        var c = box.querySelector("input[type=radio]:checked");
        if (!c) return null;
        return q.type === "true_false" ? c.value === "true" : c.value;
      }
      case "multiple_select":
        return inputs(box, "input[type=checkbox]:checked").map(function (c) { return c.value; });
      case "numeric": {
        var n = box.querySelector("input").value.trim();
        return n === "" || isNaN(Number(n)) ? null : Number(n);
      }
      case "short_text":
        return box.querySelector("input").value;
      case "ordering": {
        // The chosen positions must be 1..n, each once; otherwise the answer is incomplete.
        var sels = inputs(box, "select"), order = [];
        sels.forEach(function (s) { if (s.value) order[Number(s.value) - 1] = s.dataset.item; });
        var full = order.filter(Boolean).length === sels.length && order.length === sels.length;
        return full ? order : null;
      }
      case "matching": {
        var out = {};
        inputs(box, "select").forEach(function (s) { if (s.value) out[s.dataset.pair] = s.value; });
        return out;
      }
    }
    return null;
  }

  function writeResponse(q, box, r) {
    switch (q.type) {
      case "single_choice":
      case "true_false":
        inputs(box, "input[type=radio]").forEach(function (c) { c.checked = c.value === String(r); });
        break;
      case "multiple_select":
        inputs(box, "input[type=checkbox]").forEach(function (c) {
          c.checked = (r || []).indexOf(c.value) >= 0;
        });
        break;
      case "numeric":
      case "short_text":
        box.querySelector("input").value = r == null ? "" : String(r);
        break;
      case "ordering":
        inputs(box, "select").forEach(function (s) {
          var k = (r || []).indexOf(s.dataset.item);
          s.value = k >= 0 ? String(k + 1) : "";
        });
        break;
      case "matching":
        inputs(box, "select").forEach(function (s) { s.value = (r || {})[s.dataset.pair] || ""; });
        break;
    }
  }

  var VERDICT_TEXT = { correct: "Correct", partial: "Partly correct", incorrect: "Not correct" };

  function showResult(box, res) {
    var out = box.querySelector(".cq-feedback");
    out.className = "cq-feedback cq-" + res.verdict;
    out.innerHTML = "<p><strong>" + VERDICT_TEXT[res.verdict] + "</strong> (score " +
      res.score + " of 1)</p><ul>" + res.feedback.map(function (f) {
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
    quiz.querySelector(".cq-summary").textContent = "Score: " +
      (Math.round(total * 100) / 100) + " of " + questions.length + " (" + answered +
      " of " + questions.length + " questions checked)";
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
        var r = readResponse(q, box);
        if (isEmpty(r)) {
          // Not graded and not saved: an empty check is a slip, not a wrong answer.
          var out = box.querySelector(".cq-feedback");
          out.className = "cq-feedback";
          out.textContent = q.type === "ordering"
            ? "Give each item a different position, using every position once, then check."
            : q.type === "numeric" ? "Type a number, then check."
              : "Answer the question first, then check.";
          return;
        }
        var res = grade(q, r);
        showResult(box, res);
        save(q.id, { response: r, verdict: res.verdict, score: res.score });
        summarise(quiz, questions);
      });
      box.querySelector(".cq-retry").addEventListener("click", function () {
        writeResponse(q, box, null);
        var out = box.querySelector(".cq-feedback");
        out.className = "cq-feedback";
        out.textContent = "Answer cleared: try again.";
        try { window.localStorage.removeItem(PREFIX + q.id); } catch (e) { /* private mode */ }
        summarise(quiz, questions);
        var first = box.querySelector("input, select");
        if (first) first.focus();
      });
      explain.addEventListener("click", function () {
        var open = expl.hidden;
        expl.hidden = !open;
        explain.setAttribute("aria-expanded", String(open));
        explain.textContent = open ? "Hide explanation" : "Show explanation";
      });
      var saved = load(q.id);
      if (saved) { writeResponse(q, box, saved.response); showResult(box, grade(q, saved.response)); }
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

  window.courseQuiz = { grade: grade, normalise: normalise, initAll: initAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
  else initAll();
})();
