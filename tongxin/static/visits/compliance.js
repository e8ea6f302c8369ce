/* The compliance chart: ECharts (served by the application), drawn from the JSON the page
   carries in #compliance-data. Without JavaScript the tables say the same. Tooltips are drawn
   on the canvas (richText): HTML tooltips would need inline styles, which the CSP forbids. */
(function () {
  "use strict";
  var holder = document.getElementById("compliance-chart");
  var source = document.getElementById("compliance-data");
  if (!holder || !source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  holder.hidden = false;
  var chart = window.echarts.init(holder, null, { renderer: "canvas" });
  var many = data.categories.length > 4;
  chart.setOption({
    animation: false,
    color: ["#1565c0", "#2e7d32", "#ef6c00"],
    tooltip: {
      trigger: "axis",
      renderMode: "richText",
      valueFormatter: function (value) {
        return value === null || value === undefined ? "—" : value + "%";
      }
    },
    legend: { top: 0, type: "scroll" },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: {
      type: "category",
      data: data.categories,
      axisLabel: { interval: 0, rotate: many ? 40 : 0, hideOverlap: false }
    },
    yAxis: {
      type: "value",
      min: 0,
      max: 100,
      axisLabel: { formatter: "{value}%" }
    },
    series: data.series.map(function (s) {
      return { name: s.name, type: "bar", data: s.data, barMaxWidth: 28 };
    })
  });
  // Drill-down: a bar opens its division's page, as the table's links do.
  chart.on("click", function (params) {
    var url = data.links[params.dataIndex];
    if (url) {
      window.location.href = url;
    }
  });
  window.addEventListener("resize", function () {
    chart.resize();
  });
})();
