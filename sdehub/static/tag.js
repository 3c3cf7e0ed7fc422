/*
 * sdehub web tag: LivePerson's public web tag API (lpTag.sdes, lpTag.events, lpTag.identities,
 * lpTag.section) over the Monitoring API of the sdehub server that serves this file.
 *
 *   <script>window.lpTag = window.lpTag || {}; lpTag.sdes = lpTag.sdes || [];</script>
 *   <script async src="https://SERVER/tag.js?account=ACCOUNT&app=APP_INSTALLATION_ID"></script>
 *
 * Plain ES2017, no build step. Options may be set before the tag loads, in lpTag.sdehub:
 * {account, app, server, retryDelays (ms), timeout (ms), identityTimeout (ms)}.
 * Documented in docs/web-tag.md.
 */
(function (window, document) {
  "use strict";

  var lpTag = (window.lpTag = window.lpTag || {});
  if (lpTag.sdes && lpTag.sdes.sdehub) {
    return; // Loaded twice: the first copy already owns this page.
  }

  var PREFIX = "sdehub tag:";
  var IMPRESSIONS = ["impDisplay", "impAccept", "impExpanded", "impTimeout", "impClose"];
  // The Monitoring API's retry schedule: 5xx and 202 (account loading), 4 times.
  var RETRY_DELAYS = [3000, 10000, 30000, 90000];
  // Chrome refuses keepalive bodies over 64 KB in flight; larger ones go without it.
  var KEEPALIVE_LIMIT = 60000;

  var script = document.currentScript;
  var options = Object.assign({}, lpTag.sdehub || {});
  var src = script && script.src ? new URL(script.src, window.location.href) : null;
  var config = {
    account: options.account || (src && src.searchParams.get("account")),
    app: options.app || (src && src.searchParams.get("app")),
    server: String(options.server || (src ? src.origin : window.location.origin)).replace(/\/+$/, ""),
    retryDelays: Array.isArray(options.retryDelays) ? options.retryDelays : RETRY_DELAYS,
    timeout: options.timeout || 15000,
    identityTimeout: options.identityTimeout || 2000,
  };
  if (!config.account || !config.app) {
    console.error(PREFIX, "no account or app: load /tag.js?account=ACCOUNT&app=APP");
    return;
  }

  // -- lpTag.events: bind / unbind / trigger / hasFired ----------------------------------------

  var events = lpTag.events && typeof lpTag.events.bind === "function" ? lpTag.events : makeEvents();
  lpTag.events = events;

  function makeEvents() {
    var listeners = [];
    var fired = [];
    var nextId = 1;
    var matches = function (l, appName, eventName) {
      return (l.appName === "*" || l.appName === appName) &&
        (l.eventName === "*" || l.eventName === eventName);
    };
    return {
      bind: function (appName, eventName, func) {
        if (appName && typeof appName === "object") {
          func = appName.func;
          eventName = appName.eventName;
          appName = appName.appName;
        }
        var id = nextId++;
        listeners.push({ id: id, appName: appName, eventName: eventName, func: func });
        return id;
      },
      unbind: function (id) {
        listeners = listeners.filter(function (l) { return l.id !== id; });
      },
      trigger: function (appName, eventName, data) {
        fired.push({ appName: appName, eventName: eventName, data: data });
        if (fired.length > 200) fired.shift();
        listeners.slice().forEach(function (l) {
          if (!matches(l, appName, eventName)) return;
          try {
            l.func(data, { appName: appName, eventName: eventName });
          } catch (error) {
            console.error(PREFIX, "an event listener failed", error);
          }
        });
      },
      hasFired: function (appName, eventName) {
        return fired.filter(function (f) { return matches(f, appName, eventName); });
      },
    };
  }

  // -- the visit's ids: vid for the browser (localStorage), sid for the browser session ---------

  var VID_KEY = "sdehub." + config.account + ".vid";
  var SID_COOKIE = "sdehub_sid_" + config.account;
  var memory = { vid: null, sid: null };

  function readIds() {
    var vid = memory.vid;
    try {
      vid = window.localStorage.getItem(VID_KEY) || vid;
    } catch (error) { /* storage blocked: the page's memory is all there is */ }
    var match = document.cookie.match(new RegExp("(?:^|; )" + SID_COOKIE + "=([^;]*)"));
    return { vid: vid, sid: match ? decodeURIComponent(match[1]) : memory.sid };
  }

  function storeIds(answer) {
    if (answer && typeof answer.visitorId === "string" && answer.visitorId) {
      memory.vid = answer.visitorId;
      try {
        window.localStorage.setItem(VID_KEY, answer.visitorId);
      } catch (error) { /* kept in memory */ }
    }
    if (answer && typeof answer.sessionId === "string" && answer.sessionId) {
      memory.sid = answer.sessionId;
      // A session cookie: shared by the site's tabs, gone when the browser session ends.
      var secure = window.location.protocol === "https:" ? "; Secure" : "";
      document.cookie = SID_COOKIE + "=" + encodeURIComponent(answer.sessionId) +
        "; path=/; SameSite=Lax" + secure;
    }
  }

  function forgetIds() {
    memory.vid = memory.sid = null;
    try {
      window.localStorage.removeItem(VID_KEY);
    } catch (error) { /* nothing stored */ }
    document.cookie = SID_COOKIE + "=; path=/; max-age=0";
  }

  // -- what every call says about the page --------------------------------------------------------

  var pageId = String(1000000000 + Math.floor(Math.random() * 9000000000));

  function entryPoints() {
    var section = lpTag.section;
    var sections = Array.isArray(section) ? section : section ? [section] : [];
    var points = sections
      .filter(function (s) { return typeof s === "string" && s; })
      .map(function (s) { return "sec://" + s; });
    points.push(window.location.href.slice(0, 2048));
    return points;
  }

  var identities = null;

  // lpTag.identities: functions fn(callback) that call back with {iss, acr, sub}; asked once
  // per page, waiting at most identityTimeout for slow ones.
  function collectIdentities() {
    if (identities) return identities;
    var fns = Array.isArray(lpTag.identities) ?
      lpTag.identities.filter(function (f) { return typeof f === "function"; }) : [];
    identities = new Promise(function (resolve) {
      var found = [];
      var left = fns.length;
      var done = false;
      var finish = function () {
        if (done) return;
        done = true;
        resolve(found.filter(Boolean));
      };
      fns.forEach(function (fn, i) {
        var answered = false;
        var callback = function (identity) {
          if (answered) return;
          answered = true;
          found[i] = validIdentity(identity);
          if (--left === 0) finish();
        };
        try {
          fn(callback);
        } catch (error) {
          console.error(PREFIX, "an lpTag.identities function failed", error);
          callback(null);
        }
      });
      if (left === 0) finish();
      setTimeout(finish, config.identityTimeout);
    });
    return identities;
  }

  function validIdentity(identity) {
    if (!identity || typeof identity.sub !== "string" || !identity.sub) return null;
    if (identity.acr !== "0" && identity.acr !== "loa1") {
      console.warn(PREFIX, "identity ignored: acr must be \"0\" or \"loa1\"", identity);
      return null;
    }
    var out = { acr: identity.acr, sub: identity.sub };
    if (typeof identity.iss === "string" && identity.iss) out.iss = identity.iss;
    return out;
  }

  // -- calls, one at a time (a new visit's ids must reach the next call), with retries ---------

  var chain = Promise.resolve();

  function enqueue(task) {
    var run = chain.then(task);
    chain = run.catch(function (error) { console.error(PREFIX, error); });
    return run;
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function endpoint(method) {
    var ids = readIds();
    var url = new URL(config.server + "/api/account/" + encodeURIComponent(config.account) +
      "/app/" + encodeURIComponent(config.app) + "/" + method);
    url.searchParams.set("v", "1.1");
    if (ids.vid) url.searchParams.set("vid", ids.vid);
    if (ids.sid) url.searchParams.set("sid", ids.sid);
    return url.href;
  }

  // One HTTP exchange: {ok, retry, status, body}; a network error is {retry: true, status: 0}.
  async function exchange(method, path, payload) {
    var text = JSON.stringify(payload);
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, config.timeout);
    var response;
    try {
      response = await window.fetch(endpoint(path), {
        method: method,
        headers: { "Content-Type": "application/json" },
        body: text,
        credentials: "omit",
        mode: "cors",
        keepalive: text.length < KEEPALIVE_LIMIT,
        signal: controller.signal,
      });
    } catch (error) {
      return { ok: false, retry: true, status: 0, body: null, error: error };
    } finally {
      clearTimeout(timer);
    }
    var body = await response.json().catch(function () { return null; });
    var status = response.status;
    if (status === 200 || status === 201) {
      storeIds(body);
      return { ok: true, retry: false, status: status, body: body };
    }
    if (status === 202 && body && body.visitorId) {
      // "Loading account": the retry must carry the visitor id the server answered with.
      storeIds({ visitorId: body.visitorId });
    }
    return { ok: false, retry: status === 202 || status >= 500, status: status, body: body };
  }

  // Retries 5xx, 202 and network errors after retryDelays; 4xx is final.
  async function call(method, path, payload) {
    for (var attempt = 0; ; attempt++) {
      var outcome = await exchange(method, path, payload);
      if (outcome.ok) {
        runDeferred();
        return outcome;
      }
      var message = outcome.body && outcome.body.message ? outcome.body.message : outcome.error;
      if (!outcome.retry || attempt >= config.retryDelays.length) {
        if (outcome.retry) {
          console.error(PREFIX, path, "failed after", attempt + 1, "attempts:", outcome.status, message);
        } else {
          console.error(PREFIX, path, "refused:", outcome.status, message);
        }
        if (outcome.status === 404 && outcome.body &&
            (outcome.body.internalCode === 37 || outcome.body.internalCode === 39)) {
          forgetIds(); // ids the server cannot have issued: start a new visit next time
        }
        return outcome;
      }
      await sleep(config.retryDelays[attempt]);
    }
  }

  // -- SDEs: pushed, kept on the page (get), sent with the next call ---------------------------

  var byType = {};
  var pending = [];
  var deferred = [];
  var engaged = false;
  var flushTimer = null;

  function accept(data) {
    var items = Array.isArray(data) ? data : [data];
    items.forEach(function (sde) {
      if (!sde || typeof sde !== "object" || typeof sde.type !== "string") {
        console.warn(PREFIX, "not an SDE (an object with a string type), ignored:", sde);
        return;
      }
      if (IMPRESSIONS.indexOf(sde.type) >= 0) {
        console.warn(PREFIX, "impressions are reported by the tag itself, ignored:", sde);
        return;
      }
      (byType[sde.type] = byType[sde.type] || []).push(sde);
      pending.push(sde);
      events.trigger("lp_sdes", "VAR_ADDED", sde);
    });
  }

  // Pushes made in the same task travel together: the flush waits for the task to end.
  function scheduleFlush() {
    if (flushTimer === null) {
      flushTimer = setTimeout(function () {
        flushTimer = null;
        enqueue(function () { return report([], []); });
      }, 0);
    }
  }

  // The send callback contract: it runs when its request succeeds; after an error, only once
  // some later request succeeds.
  function runDeferred() {
    var callbacks = deferred;
    deferred = [];
    callbacks.forEach(function (fn) {
      try {
        fn();
      } catch (error) {
        console.error(PREFIX, "an lpTag.sdes.send callback failed", error);
      }
    });
  }

  async function engage() {
    var found = await collectIdentities();
    var sdes = pending.splice(0);
    var body = { pageId: pageId, entryPoints: entryPoints(), engagementAttributes: sdes };
    if (found.length) body.identities = found;
    var outcome = await call("POST", "engagement", body);
    if (!outcome.ok) {
      if (outcome.retry) pending = sdes.concat(pending); // kept for the next call
      return outcome;
    }
    engaged = true;
    var details = (outcome.body && outcome.body.engagementDetails) || [];
    var offer = details.filter(function (d) { return d.status === "expose"; })[0];
    if (offer) whenBodyReady(function () { showOffer(offer); });
    return outcome;
  }

  // A report of the pending SDEs plus `extra` (impressions); `callbacks` run on its success.
  async function report(extra, callbacks) {
    deferred = deferred.concat(callbacks);
    if (!engaged) {
      // No visit yet (the first engagement failed): the engagement call carries the SDEs.
      // (Impressions cannot be waiting: an offer only comes from a successful engagement.)
      return engage();
    }
    var sdes = pending.splice(0);
    if (!sdes.length && !extra.length && !callbacks.length) return null;
    var found = await collectIdentities();
    var body = { pageId: pageId, entryPoints: entryPoints(), engagementAttributes: sdes.concat(extra) };
    if (found.length) body.identities = found;
    var result = await call("PUT", "report", body);
    if (!result.ok && result.retry) pending = sdes.concat(pending);
    return result;
  }

  // On leaving the page, what is still queued goes out at once (keepalive outlives the page).
  window.addEventListener("pagehide", function () {
    if (!engaged || !pending.length) return;
    var body = { pageId: pageId, entryPoints: entryPoints(), engagementAttributes: pending.splice(0) };
    var text = JSON.stringify(body);
    window.fetch(endpoint("report"), {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: text,
      credentials: "omit",
      keepalive: text.length < KEEPALIVE_LIMIT,
    }).catch(function () { /* the page is gone; nobody is left to tell */ });
  });

  // -- the engagement offer --------------------------------------------------------------------

  var STYLE = [
    ".sdehub-offer{position:fixed;right:16px;bottom:16px;z-index:2147483000;display:flex;",
    "gap:8px;align-items:center;padding:12px 14px;border-radius:10px;background:#fff;",
    "color:#1b1b1f;box-shadow:0 4px 18px rgba(0,0,0,.2);font:15px/1.4 system-ui,sans-serif}",
    ".sdehub-offer button{font:inherit;cursor:pointer;border-radius:6px;padding:8px 12px;",
    "border:1px solid #1a56db}",
    ".sdehub-offer .sdehub-accept{background:#1a56db;color:#fff}",
    ".sdehub-offer .sdehub-close{background:#fff;color:#1a56db;padding:8px 10px}",
    ".sdehub-offer button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
  ].join("");

  function whenBodyReady(fn) {
    if (document.body) fn();
    else document.addEventListener("DOMContentLoaded", fn, { once: true });
  }

  function impression(type, detail, withContext) {
    var imp = {
      type: type,
      campaign: detail.campaignId,
      engId: detail.engagementId,
      revision: detail.engagementRevision,
    };
    if (withContext) imp.eContext = [{ type: "engagementContext", id: detail.contextId }];
    return enqueue(function () { return report([imp], []); });
  }

  function showOffer(detail) {
    if (!document.getElementById("sdehub-offer-style")) {
      var style = document.createElement("style");
      style.id = "sdehub-offer-style";
      style.textContent = STYLE;
      document.head.appendChild(style);
    }
    var box = document.createElement("div");
    box.className = "sdehub-offer";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", "Chat offer");
    box.dataset.campaignId = String(detail.campaignId);
    box.dataset.engagementId = String(detail.engagementId);
    box.dataset.contextId = String(detail.contextId);
    var acceptButton = document.createElement("button");
    acceptButton.type = "button";
    acceptButton.className = "sdehub-accept";
    acceptButton.textContent = "Chat with us";
    var closeButton = document.createElement("button");
    closeButton.type = "button";
    closeButton.className = "sdehub-close";
    closeButton.setAttribute("aria-label", "Close the chat offer");
    closeButton.textContent = "\u00d7";
    box.appendChild(acceptButton);
    box.appendChild(closeButton);

    var finish = function (type, eventName) {
      box.remove();
      impression(type, detail, type === "impAccept");
      events.trigger("sdehub", eventName, detail);
    };
    acceptButton.addEventListener("click", function () { finish("impAccept", "OFFER_ACCEPTED"); });
    closeButton.addEventListener("click", function () { finish("impClose", "OFFER_CLOSED"); });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") finish("impClose", "OFFER_CLOSED");
    });
    document.body.appendChild(box);
    impression("impDisplay", detail, true);
    events.trigger("sdehub", "OFFER_DISPLAYED", detail);
  }

  // -- lpTag.sdes --------------------------------------------------------------------------------

  var queued = Array.isArray(lpTag.sdes) ? lpTag.sdes.slice() : [];
  lpTag.sdes = {
    sdehub: true,
    push: function (data) {
      accept(data);
      scheduleFlush();
    },
    send: function (data, callback) {
      if (typeof data === "function") {
        callback = data;
        data = [];
      }
      if (data) accept(data);
      var callbacks = typeof callback === "function" ? [callback] : [];
      enqueue(function () { return report([], callbacks); });
    },
    // The page's own SDEs, the very objects pushed ({type: [sde, sde]}), or one type's array.
    get: function (type) {
      return type === undefined ? byType : byType[type];
    },
  };
  queued.forEach(accept);
  enqueue(engage);
})(window, document);
