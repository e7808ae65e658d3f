// Post the deep-linking answer back to the LMS at once (the button is there without JavaScript).
document.getElementById("deep-link-return").submit();
