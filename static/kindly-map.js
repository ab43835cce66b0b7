// The directory's map (templates/directory/_map.html): draws the places listed on the
// page with Leaflet. The list stays the page's content; the map appears only once this
// has run, and goes again if the first tiles fail to load.
(function () {
  "use strict";

  const panel = document.querySelector(".kindly-map-panel");
  if (!panel || typeof window.L === "undefined") {
    return;
  }
  const box = panel.querySelector(".kindly-map");
  let points;
  try {
    points = JSON.parse(box.dataset.points || "[]");
  } catch (error) {
    return;
  }
  if (!points.length) {
    return;
  }

  panel.hidden = false;
  const map = window.L.map(box, { scrollWheelZoom: false });
  // Leaflet shows attributions as HTML; the configured credit is text.
  const credit = document.createElement("span");
  credit.textContent = box.dataset.attribution || "";
  const tiles = window.L.tileLayer(box.dataset.tileUrl, {
    attribution: credit.innerHTML,
    maxZoom: 19,
  });
  let anyTile = false;
  tiles.on("tileload", function () {
    anyTile = true;
  });
  tiles.on("tileerror", function () {
    if (!anyTile) {
      panel.hidden = true;
    }
  });
  tiles.addTo(map);

  const bounds = [];
  points.forEach(function (point) {
    // Markers are focusable buttons (Leaflet's keyboard option); Enter opens the popup.
    const marker = window.L.marker([point.lat, point.lon], {
      title: point.name,
      alt: point.name,
      keyboard: true,
    });
    marker.bindPopup(popupFor(point));
    marker.addTo(map);
    bounds.push([point.lat, point.lon]);
  });

  const home = box.dataset.home ? JSON.parse(box.dataset.home) : null;
  if (home) {
    window.L.circleMarker(home, { radius: 7, color: "#005eb8", fillOpacity: 0.6 })
      .bindTooltip("Your postcode")
      .addTo(map);
    bounds.push(home);
  }
  if (bounds.length === 1) {
    map.setView(bounds[0], 15);
  } else {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }
  box.dataset.markers = String(points.length);

  function popupFor(point) {
    // Built as elements, so names from the directory are never read as HTML.
    const content = document.createElement("div");
    content.className = "kindly-map-popup";
    const name = document.createElement("p");
    if (point.href) {
      const link = document.createElement("a");
      link.href = point.href;
      link.textContent = point.name;
      name.appendChild(link);
    } else {
      name.textContent = point.name;
    }
    content.appendChild(name);
    if (point.where) {
      const where = document.createElement("p");
      where.textContent = point.where;
      content.appendChild(where);
    }
    return content;
  }
})();
