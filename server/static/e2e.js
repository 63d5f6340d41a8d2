// e2e.js: sealed screenshots, opened in this browser alone. It makes a
// person's screenshot key (X25519, its private half locked with AES-GCM
// under a PBKDF2 key from their passphrase, which never leaves the page),
// unlocks it into IndexedDB as a key no script can read back, and opens each
// img[data-sealed] as stint_common::seal sealed it: X25519 with the image's
// ephemeral key, HKDF-SHA256, AES-256-GCM. WebCrypto does every step.
"use strict";
(function () {
  var subtle = window.crypto && window.crypto.subtle;
  var utf8 = new TextEncoder();
  var INFO = utf8.encode("stint-e2e v1");

  function bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function base64(buf) {
    var a = new Uint8Array(buf), s = "";
    for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s);
  }
  function hex(a) {
    var s = "";
    for (var i = 0; i < a.length; i++) s += ("0" + a[i].toString(16)).slice(-2);
    return s;
  }
  function say(id, text) {
    var el = document.getElementById(id);
    if (el) el.textContent = text;
  }
  function passKey(pass, salt, iterations) {
    return subtle.importKey("raw", utf8.encode(pass), "PBKDF2", false, ["deriveKey"])
      .then(function (k) {
        return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt: salt, iterations: iterations },
          k, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
      });
  }

  // Unlocked keys: { id (hex key id): { priv: CryptoKey, pub: Uint8Array } }.
  function db() {
    return new Promise(function (ok, fail) {
      var r = indexedDB.open("stint-e2e", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("keys"); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function store(mode, act) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var tx = d.transaction("keys", mode), req = act(tx.objectStore("keys"));
        tx.oncomplete = function () { ok(req && req.result); };
        tx.onerror = function () { fail(tx.error); };
      });
    });
  }
  function unlocked() {
    var out = {};
    return db().then(function (d) {
      return new Promise(function (ok) {
        var c = d.transaction("keys").objectStore("keys").openCursor();
        c.onsuccess = function () {
          var cur = c.result;
          if (!cur) return ok(out);
          out[cur.key] = cur.value;
          cur.continue();
        };
        c.onerror = function () { ok(out); };
      });
    });
  }

  // Opens one sealed image (see stint_common::seal for the layout).
  function open(b, keys) {
    if (b.length < 5 || String.fromCharCode(b[0], b[1], b[2], b[3]) !== "STE1") {
      return Promise.reject(new Error("not a sealed image"));
    }
    var n = b[4], eph = b.slice(5, 37), at = 37 + n * 64 + 12, key = null, kid, wrapped;
    for (var i = 0; i < n && !key; i++) {
      var s = 37 + i * 64;
      kid = b.slice(s, s + 16);
      key = keys[hex(kid)] || null;
      wrapped = b.slice(s + 16, s + 64);
    }
    if (!key) return Promise.reject(new Error("sealed to keys this browser has not unlocked"));
    return subtle.importKey("raw", eph, { name: "X25519" }, false, [])
      .then(function (e) { return subtle.deriveBits({ name: "X25519", public: e }, key.priv, 256); })
      .then(function (shared) { return subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]); })
      .then(function (ikm) {
        var salt = new Uint8Array(64);
        salt.set(eph, 0);
        salt.set(key.pub, 32);
        return subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: salt, info: INFO },
          ikm, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
      })
      .then(function (wk) {
        return subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12), additionalData: kid }, wk, wrapped);
      })
      .then(function (fk) { return subtle.importKey("raw", fk, "AES-GCM", false, ["decrypt"]); })
      .then(function (fk) {
        return subtle.decrypt({ name: "AES-GCM", iv: b.slice(at - 12, at), additionalData: b.slice(0, at) },
          fk, b.slice(at));
      });
  }

  function openAll() {
    var imgs = document.querySelectorAll("img[data-sealed]");
    if (!imgs.length || !subtle) return;
    unlocked().then(function (keys) {
      var locked = 0, pending = imgs.length;
      Array.prototype.forEach.call(imgs, function (img) {
        fetch(img.getAttribute("data-sealed"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.arrayBuffer() : Promise.reject(new Error("HTTP " + r.status)); })
          .then(function (buf) { return open(new Uint8Array(buf), keys); })
          .then(function (plain) {
            img.src = URL.createObjectURL(new Blob([plain], { type: img.getAttribute("data-type") || "image/webp" }));
            img.removeAttribute("data-sealed");
            img.classList.remove("locked");
          })
          .catch(function (e) { locked++; img.classList.add("locked"); img.title = String(e.message || e); })
          .then(function () {
            if (--pending === 0) {
              say("e2e-state", locked ? locked + " still sealed: unlock the key they were sealed to." : "Unlocked.");
            }
          });
      });
    });
  }

  var unlock = document.getElementById("e2e-unlock");
  if (unlock) {
    unlock.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var pass = document.getElementById("e2e-unlock-pass").value;
      var mine = JSON.parse(document.getElementById("e2e").getAttribute("data-keys") || "[]");
      Promise.all(mine.map(function (k) {
        return passKey(pass, bytes(k.salt), k.iterations)
          .then(function (pk) { return subtle.decrypt({ name: "AES-GCM", iv: bytes(k.iv) }, pk, bytes(k.wrapped)); })
          .then(function (pkcs8) { return subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]); })
          .then(function (priv) {
            return store("readwrite", function (s) { return s.put({ priv: priv, pub: bytes(k.public_key) }, k.key_id); })
              .then(function () { return 1; });
          })
          .catch(function () { return 0; });
      })).then(function (opened) {
        var n = opened.reduce(function (a, b) { return a + b; }, 0);
        document.getElementById("e2e-unlock-pass").value = "";
        say("e2e-state", n ? "" : "This passphrase opens none of your keys.");
        if (n) openAll();
      });
    });
  }

  var make = document.getElementById("e2e-make");
  if (make) {
    make.addEventListener("submit", function (ev) {
      if (make.getAttribute("data-ready")) return;
      ev.preventDefault();
      var pass = document.getElementById("e2e-pass").value;
      if (pass !== document.getElementById("e2e-again").value) {
        say("e2e-said", "The two passphrases differ.");
        return;
      }
      if (!subtle) {
        say("e2e-said", "This browser has no WebCrypto here (it needs HTTPS).");
        return;
      }
      var salt = crypto.getRandomValues(new Uint8Array(16));
      var iv = crypto.getRandomValues(new Uint8Array(12));
      var iterations = parseInt(make.getAttribute("data-iterations"), 10);
      say("e2e-said", "Making the key…");
      subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])
        .then(function (pair) {
          return Promise.all([subtle.exportKey("raw", pair.publicKey), subtle.exportKey("pkcs8", pair.privateKey),
            passKey(pass, salt, iterations)]);
        })
        .then(function (r) {
          return subtle.encrypt({ name: "AES-GCM", iv: iv }, r[2], r[1]).then(function (wrapped) {
            var f = make.elements;
            f.namedItem("public").value = base64(r[0]);
            f.namedItem("wrapped").value = base64(wrapped);
            f.namedItem("salt").value = base64(salt);
            f.namedItem("iv").value = base64(iv);
            f.namedItem("iterations").value = String(iterations);
            // The passphrase fields have no name: the form never sends them.
            make.setAttribute("data-ready", "1");
            make.submit();
          });
        })
        .catch(function (e) { say("e2e-said", "This browser could not make the key: " + e); });
    });
  }

  // Logged out: the unlocked keys go with the session.
  if (document.querySelector("form[action='/login']") && window.indexedDB) {
    store("readwrite", function (s) { return s.clear(); }).catch(function () {});
  }
  openAll();
})();
