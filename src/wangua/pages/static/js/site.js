// Countdowns synchronised to the server's clock (R-18: the server's time is the only
// time). Each tick the server sends carries its time; the page keeps the offset to the
// local clock and counts down from the deadlines in the board. The timed-bidding
// countdown is also shown in the page title.
(function () {
  "use strict";
  const baseTitle = document.title;
  let offset = 0;
  let seen = null;

  function syncClock() {
    const element = document.querySelector("[data-server-now]");
    if (!element) return;
    const value = element.getAttribute("data-server-now");
    if (value !== seen) {
      seen = value;
      offset = Date.parse(value) - Date.now();
    }
  }

  function two(n) { return String(n).padStart(2, "0"); }

  function format(ms) {
    if (ms <= 0) return "00:00";
    const total = Math.ceil(ms / 1000);
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    const clock = (hours || days ? two(hours) + ":" : "") + two(minutes) + ":" + two(seconds);
    return days ? days + (document.documentElement.lang === "en" ? "d " : "天 ") + clock : clock;
  }

  function tick() {
    syncClock();
    const now = Date.now() + offset;
    let inTitle = null;
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (element) {
      const left = Date.parse(element.dataset.deadline) - now;
      element.textContent = format(left);
      if (element.dataset.title) inTitle = format(left);
    });
    document.title = inTitle ? "⏱ " + inTitle + " · " + baseTitle : baseTitle;
  }

  // The amount field follows the next minimum bid until the bidder types in it.
  function followMinimum() {
    const field = document.getElementById("amount");
    const next = document.querySelector("[data-next-minimum]");
    if (field && next && !field.dataset.touched && document.activeElement !== field) {
      field.value = next.dataset.nextMinimum;
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "amount") event.target.dataset.touched = "1";
  });
  document.addEventListener("htmx:afterSwap", function () { tick(); followMinimum(); });
  document.addEventListener("htmx:sseMessage", function () { tick(); followMinimum(); });
  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 250);
})();
