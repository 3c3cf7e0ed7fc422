/*
 * The sdehub demo shop: every visitor action pushes the matching Engagement Attribute through the
 * web tag's lpTag.sdes, and each page sets lpTag.section. The page runs before the tag loads
 * (the tag is async), so its first pushes wait in the plain array the tag picks up.
 */
(function () {
  "use strict";

  // LivePerson's recommended bootstrap: pushes work before the tag is there.
  window.lpTag = window.lpTag || {};
  lpTag.sdes = lpTag.sdes || [];
  lpTag.identities = lpTag.identities || [];

  var config = JSON.parse(document.getElementById("shop-config").textContent);
  var main = document.getElementById("shop");
  var statusLine = document.getElementById("status");
  var CURRENCY = "USD";
  var CART_KEY = "sdehub-shop." + config.account + ".cart";
  var USER_KEY = "sdehub-shop." + config.account + ".user";

  // -- helpers -----------------------------------------------------------------------------------

  function href(path, extra) {
    var query = [config.query, extra].filter(Boolean).join("&");
    return query ? path + "?" + query : path;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function load(key, fallback) {
    try {
      return JSON.parse(window.localStorage.getItem(key)) || fallback;
    } catch (error) {
      return fallback;
    }
  }

  function save(key, value) {
    window.localStorage.setItem(key, JSON.stringify(value));
  }

  function say(text) {
    statusLine.textContent = text;
  }

  function money(amount) {
    return "$" + amount.toFixed(2);
  }

  function find(sku) {
    return config.catalog.filter(function (p) { return p.sku === sku; })[0];
  }

  function wire(p) {
    return { name: p.name, category: p.category, sku: p.sku, price: p.price };
  }

  function cartTotals(cart) {
    var items = cart.map(function (line) {
      return { product: wire(find(line.sku)), quantity: line.quantity };
    });
    var total = items.reduce(function (sum, i) { return sum + i.product.price * i.quantity; }, 0);
    var count = items.reduce(function (sum, i) { return sum + i.quantity; }, 0);
    return { products: items, total: Math.round(total * 100) / 100, numItems: count };
  }

  function showCartCount(cart) {
    document.getElementById("cart-count").textContent = String(cartTotals(cart).numItems);
  }

  function productList(products) {
    return el("ul", { class: "products" }, products.map(function (p) {
      return el("li", {}, [
        el("a", { href: href("/demo/shop/products/" + p.sku), text: p.name }),
        el("p", { text: p.category + " \u00b7 " + money(p.price) }),
      ]);
    }));
  }

  function render(title, nodes) {
    main.textContent = "";
    main.appendChild(el("h1", { text: title }));
    nodes.forEach(function (n) { main.appendChild(n); });
    document.title = title + " \u2013 Demo Shop";
  }

  // -- who the visitor is ------------------------------------------------------------------------

  var cart = load(CART_KEY, []);
  var user = load(USER_KEY, null);
  if (user) {
    // An unauthenticated identity (acr "0"): the shop's own, stable id for this visitor.
    lpTag.identities.push(function (callback) {
      callback({ iss: window.location.origin + "/demo/shop", acr: "0", sub: user.id });
    });
    document.getElementById("login-link").textContent = "Hi, " + user.firstname;
  }
  showCartCount(cart);
  Array.prototype.forEach.call(document.querySelectorAll("[data-link]"), function (a) {
    a.setAttribute("href", href(a.getAttribute("data-link")));
  });
  var searchForm = document.getElementById("search-form");
  config.query.split("&").filter(Boolean).forEach(function (pair) {
    var parts = pair.split("=");
    searchForm.appendChild(el("input", { type: "hidden", name: parts[0], value: parts[1] }));
  });

  // -- the pages ---------------------------------------------------------------------------------

  var pages = {
    home: function () {
      lpTag.section = ["shop", "home"];
      render("Demo Shop", [el("p", { text: "Pick a product." }), productList(config.catalog)]);
    },

    product: function () {
      var p = find(config.sku);
      lpTag.section = ["shop", p.category];
      lpTag.sdes.push({
        type: "prodView",
        currency: CURRENCY,
        products: [{ product: Object.assign(wire(p), { statusInStock: "in stock" }) }],
      });
      var add = el("button", { id: "add-to-cart", type: "button", text: "Add to cart" });
      add.addEventListener("click", function () {
        var line = cart.filter(function (l) { return l.sku === p.sku; })[0];
        if (line) line.quantity += 1;
        else cart.push({ sku: p.sku, quantity: 1 });
        save(CART_KEY, cart);
        showCartCount(cart);
        var totals = cartTotals(cart);
        // Cart Update replaces the whole cart: always the full cart.
        lpTag.sdes.push({
          type: "cart",
          total: totals.total,
          currency: CURRENCY,
          numItems: totals.numItems,
          products: totals.products,
        });
        say(p.name + " added: " + totals.numItems + " item(s) in your cart.");
      });
      render(p.name, [
        el("p", { text: p.category + " \u00b7 " + money(p.price) + " \u00b7 in stock" }),
        add,
        el("p", {}, [el("a", { href: href("/demo/shop/cart"), text: "Go to the cart" })]),
      ]);
    },

    missing: function () {
      lpTag.section = ["shop", "error"];
      lpTag.sdes.push({
        type: "error",
        error: {
          contextId: window.location.pathname,
          message: "Page not found",
          code: "404",
          level: 1,
          resolved: false,
        },
      });
      render("Page not found", [
        el("p", { text: "Sorry, there is no such page in the shop." }),
        el("a", { href: href("/demo/shop"), text: "Back to the shop" }),
      ]);
    },

    cart: function () {
      lpTag.section = ["shop", "cart"];
      var totals = cartTotals(cart);
      if (!totals.numItems) {
        render("Your cart", [el("p", { text: "Your cart is empty." })]);
        return;
      }
      var buy = el("button", { id: "buy", type: "button", text: "Buy for " + money(totals.total) });
      var declined = el("button", {
        id: "pay-declined",
        type: "button",
        class: "secondary",
        text: "Pay with a card that is declined",
      });
      buy.addEventListener("click", function () {
        buy.disabled = true;
        say("Placing your order\u2026");
        var orderId = "ORD-" + Date.now().toString(36).toUpperCase();
        // send, not push: the purchase must reach the server before the page is left.
        lpTag.sdes.send({
          type: "purchase",
          total: totals.total,
          currency: CURRENCY,
          orderId: orderId,
          cart: { products: totals.products, numItems: totals.numItems },
        }, function () {
          save(CART_KEY, []);
          window.location.href = href("/demo/shop/thanks", "order=" + orderId);
        });
      });
      declined.addEventListener("click", function () {
        lpTag.sdes.push({
          type: "error",
          error: {
            contextId: "checkout",
            message: "Card declined",
            code: "card_declined",
            level: 2,
            resolved: false,
          },
        });
        say("Your card was declined. Try another one, or chat with us.");
      });
      render("Your cart", [
        el("ul", {}, totals.products.map(function (i) {
          return el("li", { text: i.quantity + " \u00d7 " + i.product.name + " (" +
            money(i.product.price) + ")" });
        })),
        el("p", { text: "Total: " + money(totals.total) }),
        buy,
        document.createTextNode(" "),
        declined,
      ]);
    },

    thanks: function () {
      lpTag.section = ["shop", "checkout"];
      var order = new URLSearchParams(window.location.search).get("order") || "";
      render("Thank you!", [el("p", { id: "order", text: "Your order " + order + " is on its way." })]);
    },

    search: function () {
      lpTag.section = ["shop", "search"];
      var q = (new URLSearchParams(window.location.search).get("q") || "").trim();
      document.getElementById("q").value = q;
      if (q) lpTag.sdes.push({ type: "searchInfo", keywords: [q] });
      var needle = q.toLowerCase();
      var found = config.catalog.filter(function (p) {
        return needle && (p.name + " " + p.category).toLowerCase().indexOf(needle) >= 0;
      });
      render("Search", [
        el("p", { id: "results", text: found.length + " result(s) for \u201c" + q + "\u201d" }),
        productList(found),
      ]);
    },

    login: function () {
      lpTag.section = ["shop", "account"];
      if (user) {
        var out = el("button", { id: "logout", type: "button", text: "Log out" });
        out.addEventListener("click", function () {
          window.localStorage.removeItem(USER_KEY);
          window.location.href = href("/demo/shop");
        });
        render("Your account", [el("p", { text: "Logged in as " + user.email + "." }), out]);
        return;
      }
      var form = el("form", { id: "login-form" }, [
        el("label", { for: "firstname", text: "First name" }),
        el("input", { id: "firstname", name: "firstname", required: "" }),
        el("label", { for: "lastname", text: "Last name" }),
        el("input", { id: "lastname", name: "lastname", required: "" }),
        el("label", { for: "email", text: "Email" }),
        el("input", { id: "email", name: "email", type: "email", required: "" }),
        el("p", {}, [el("button", { type: "submit", text: "Log in" })]),
      ]);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var data = new FormData(form);
        var email = String(data.get("email"));
        var me = {
          id: "shop-" + Math.random().toString(36).slice(2, 12),
          firstname: String(data.get("firstname")),
          lastname: String(data.get("lastname")),
          email: email,
        };
        save(USER_KEY, me);
        lpTag.sdes.send([
          { type: "ctmrinfo", info: { customerId: me.id, userName: email, cstatus: "active", ctype: "regular" } },
          { type: "personal", personal: { firstname: me.firstname, lastname: me.lastname, contacts: [{ email: email }] } },
        ], function () {
          window.location.href = href("/demo/shop");
        });
      });
      render("Log in", [form]);
    },
  };

  // When the visitor accepts the chat offer, the site opens its conversation; here, a note.
  function onOffer() {
    if (!lpTag.events || typeof lpTag.events.bind !== "function") return false;
    lpTag.events.bind("sdehub", "OFFER_ACCEPTED", function () {
      say("A conversation would open here (the Connector API carries it).");
    });
    return true;
  }
  // The tag is async and not there yet; the window's load event waits for it.
  if (!onOffer()) window.addEventListener("load", onOffer, { once: true });

  (pages[config.page] || pages.missing)();
})();
