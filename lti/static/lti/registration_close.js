// Dynamic Registration 1.0: tell the LMS that registration is over, so it closes the window
// or frame it opened us in. The message carries nothing secret; "*" because Canvas frames us
// from its own host, which is not its issuer's.
document.getElementById("registration-close").addEventListener("click", function () {
  (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
});
