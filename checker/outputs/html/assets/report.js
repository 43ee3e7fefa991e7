/* vhostmc HTML report: step through each counterexample with the keyboard.
 *
 * The page is complete without this script (every step is a row of a static
 * table); the script only moves the highlighted step and refills the panel
 * beside the table from the JSON each counterexample section carries.
 * Keys: ArrowRight / j next step, ArrowLeft / k previous, Home first, End last.
 * They act on the counterexample last clicked or focused (the first one at start).
 * The DOM is only written with textContent, never with HTML strings.
 */
(function () {
  "use strict";

  var MOVES = { ArrowRight: 1, j: 1, ArrowLeft: -1, k: -1 };

  function Walk(section) {
    this.section = section;
    this.data = JSON.parse(section.querySelector("script.cex-data").textContent);
    this.rows = Array.prototype.slice.call(section.querySelectorAll("tr.step"));
    this.panel = section.querySelector(".panel");
    this.wrap = section.querySelector(".steps-wrap");
    this.current = 1;
  }

  Walk.prototype.last = function () {
    return this.data.steps.length;
  };

  Walk.prototype.part = function (name) {
    return this.panel.querySelector("." + name);
  };

  /* Make step n (1-based, clamped) the current one: highlight its row, refill the panel. */
  Walk.prototype.go = function (n, scroll) {
    n = Math.max(1, Math.min(this.last(), n));
    var step = this.data.steps[n - 1];
    var old = this.rows[this.current - 1];
    if (old) {
      old.classList.remove("current");
      old.removeAttribute("aria-current");
    }
    var row = this.rows[n - 1];
    row.classList.add("current");
    row.setAttribute("aria-current", "step");
    this.current = n;
    this.section.setAttribute("data-current", String(n));
    this.part("pos").textContent = String(n);
    var loop = this.data.loop;
    this.part("cycle-tag").hidden = !(loop !== null && n > loop);
    this.part("actor").textContent = step.actor;
    this.part("action").textContent = step.action;
    this.part("function").textContent = step["function"];
    this.part("code").textContent = step.code;
    this.fillDiffs(step.changes);
    this.fillState(step);
    this.part("violation").hidden = n !== this.last();
    if (scroll) {
      row.scrollIntoView({ block: "nearest" });
    }
  };

  Walk.prototype.fillDiffs = function (changes) {
    var list = this.part("diffs");
    list.textContent = "";
    if (!changes.length) {
      var none = document.createElement("li");
      none.textContent = "nothing";
      list.appendChild(none);
    }
    changes.forEach(function (text) {
      var item = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = text;
      item.appendChild(code);
      list.appendChild(item);
    });
  };

  Walk.prototype.fillState = function (step) {
    this.part("state-title").textContent = "Full state after step " + step.index;
    var body = this.part("state").querySelector("tbody");
    body.textContent = "";
    var changed = {};
    step.changed.forEach(function (name) { changed[name] = true; });
    this.data.vars.forEach(function (name, i) {
      var tr = document.createElement("tr");
      var key = document.createElement("td");
      var value = document.createElement("td");
      key.textContent = name;
      value.textContent = step.state[i];
      if (changed[name]) {
        key.className = "changed";
        value.className = "changed";
      }
      tr.appendChild(key);
      tr.appendChild(value);
      body.appendChild(tr);
    });
  };

  var walks = Array.prototype.slice.call(document.querySelectorAll("section.cex"))
    .filter(function (section) { return section.querySelector("script.cex-data"); })
    .map(function (section) { return new Walk(section); });
  var active = walks.length ? walks[0] : null;

  function walkOf(node) {
    for (var i = 0; i < walks.length; i++) {
      if (node && walks[i].section.contains(node)) {
        return walks[i];
      }
    }
    return null;
  }

  walks.forEach(function (walk) {
    walk.go(1, false);
    walk.part("hint").hidden = false;
    walk.rows.forEach(function (row) {
      row.addEventListener("click", function () {
        active = walk;
        walk.go(Number(row.getAttribute("data-step")), false);
        walk.wrap.focus({ preventScroll: true });
      });
    });
    walk.wrap.addEventListener("focus", function () { active = walk; });
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.defaultPrevented) {
      return;
    }
    var target = ev.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    var walk = walkOf(document.activeElement) || active;
    if (!walk) {
      return;
    }
    if (Object.prototype.hasOwnProperty.call(MOVES, ev.key)) {
      walk.go(walk.current + MOVES[ev.key], true);
    } else if (ev.key === "Home") {
      walk.go(1, true);
    } else if (ev.key === "End") {
      walk.go(walk.last(), true);
    } else {
      return;
    }
    active = walk;
    ev.preventDefault();
  });
}());
