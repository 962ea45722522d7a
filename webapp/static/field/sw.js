/* placevoice field mode service worker (served from /field/sw.js; scope /field/).
   Keeps the app page and its assets so field mode opens with no signal. Interviews are
   never cached here: they live in IndexedDB until the server confirms them. */
"use strict";
var VERSION = "__VERSION__";
var ASSETS = __ASSETS__;
var CACHE = "placevoice-field-" + VERSION;
var APP = ASSETS[0];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("placevoice-field-") === 0 && key !== CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (hit) {
      return hit || new Response("You are offline and field mode is not stored on this device yet.",
        { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    });
  });
}

function staleWhileRevalidate(request, key) {
  return caches.match(key).then(function (hit) {
    var refresh = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
      }
      return response;
    });
    if (hit) { refresh.catch(function () { return null; }); return hit; }
    return refresh;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || ASSETS.indexOf(url.pathname) < 0) { return; }
  if (url.pathname === APP) {
    event.respondWith(networkFirst(request, url.pathname));
  } else {
    event.respondWith(staleWhileRevalidate(request, url.pathname));
  }
});
