// R-12a in the browser: sign the server's nonce with the key file the user chose,
// using WebCrypto. The key is read locally and never sent; only the certificate,
// the nonce and the signature go to the server. A form's `data-proof-prefix` names its
// hidden fields (`cosigner_certificate` … for a supervisor's co-signature, R-32b).
(function () {
  "use strict";

  function pemBytes(text, label) {
    const match = text.match(new RegExp("-----BEGIN " + label + "-----([\\s\\S]+?)-----END " + label + "-----"));
    if (!match) throw new Error("no " + label);
    return Uint8Array.from(atob(match[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  }

  function derInteger(bytes) {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    let body = Array.from(bytes.slice(start));
    if (body[0] & 0x80) body = [0].concat(body);
    return [0x02, body.length].concat(body);
  }

  // WebCrypto gives ECDSA signatures as r||s; the server expects DER, as OpenSSL writes it.
  function ecdsaDer(raw) {
    const half = raw.length / 2;
    const body = derInteger(raw.slice(0, half)).concat(derInteger(raw.slice(half)));
    return new Uint8Array([0x30, body.length].concat(body));
  }

  async function importKey(der) {
    for (const curve of ["P-256", "P-384"]) {
      try {
        return await crypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: curve }, false, ["sign"]);
      } catch (e) { /* try the next algorithm */ }
    }
    return crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  }

  async function sign(key, message) {
    const data = new TextEncoder().encode(message);
    if (key.algorithm.name === "ECDSA") {
      return ecdsaDer(new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, data)));
    }
    return new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, data));
  }

  function prove(form) {
    const certInput = form.querySelector("[data-role=certificate-file]");
    const keyInput = form.querySelector("[data-role=key-file]");
    const error = form.querySelector("[data-role=proof-error]") || document.getElementById("proof-error");
    const prefix = form.dataset.proofPrefix || "";
    let proven = false;

    form.addEventListener("submit", async function (event) {
      if (proven) return;
      const certFile = certInput && certInput.files[0];
      const keyFile = keyInput && keyInput.files[0];
      if (!certFile || !keyFile) return;
      event.preventDefault();
      try {
        const certificate = await certFile.text();
        const key = await importKey(pemBytes(await keyFile.text(), "PRIVATE KEY"));
        pemBytes(certificate, "CERTIFICATE");
        const challenge = await (await fetch("/api/v1/auth/challenge", { method: "POST" })).json();
        const signature = await sign(key, challenge.nonce);
        form.elements[prefix + "certificate"].value = certificate;
        form.elements[prefix + "nonce"].value = challenge.nonce;
        form.elements[prefix + "signature"].value = btoa(String.fromCharCode.apply(null, signature));
        proven = true;
        form.submit();
      } catch (e) {
        error.textContent = error.dataset.text || "无法读取证书或私钥文件";
        error.hidden = false;
      }
    });
  }

  document.querySelectorAll("form[data-certificate-proof=key]").forEach(prove);
})();
