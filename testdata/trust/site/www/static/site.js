// The site's script: fills product data from the API with the site's
// publishable key (filled in by record.sh), and, for the recording, walks a
// visitor's "tour" given in the URL fragment (#tour=products,item-2,...):
// after each page has loaded it clicks the link to the next page, as a
// reader would, so every Referer is the browser's own.
const KEY = "@SHOP_WEB_KEY@";
function api(path) {
  return fetch("/api/v1/" + path, {headers: {"X-API-Key": KEY}}).then(r => r.json());
}
const page = document.body.dataset.page;
const ready = [];
if (page === "products") {
  ready.push(api("items").then(d => {
    document.getElementById("items").innerHTML = d.items.map(i => "<li>" + i.name + "</li>").join("");
  }).catch(() => {}));
}
const price = document.getElementById("price");
if (price) {
  ready.push(api("items/" + price.dataset.item).then(d => { price.textContent = "$" + d.price; }).catch(() => {}));
}
const m = location.hash.match(/tour=([\w,-]*)/);
if (m) {
  const steps = m[1] ? m[1].split(",") : [];
  const next = steps.shift();
  const rest = "#tour=" + steps.join(",");
  Promise.all(ready).then(() => setTimeout(() => {
    if (!next) {
      console.log("tour done");
    } else if (next === "submit") {
      const f = document.querySelector("form");
      f.action += rest;
      f.submit();
    } else {
      const a = document.querySelector('a[data-page="' + next + '"]');
      if (a) { a.href += rest; a.click(); }
    }
  }, 300));
}
