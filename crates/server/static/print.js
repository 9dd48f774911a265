// The print button of the certificate card (inline handlers are not allowed by the page policy).
document.querySelectorAll("[data-print]").forEach((button) => button.addEventListener("click", () => window.print()));
