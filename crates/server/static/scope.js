// The account form shows only the scope the chosen role needs (without scripts, all of them
// show and the server still says which one is missing).
const role = document.getElementById("role");
const fields = document.querySelectorAll(".scope-field");
function showScope() {
  fields.forEach((field) => {
    field.hidden = role.value !== "" && !field.dataset.roles.split(" ").includes(role.value);
  });
}
if (role) {
  role.addEventListener("change", showScope);
  showScope();
}
