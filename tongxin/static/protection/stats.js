/* The statistics chart: reports by month, drawn by ECharts (served by the application) from
   the JSON the page carries in #stats-data. Without JavaScript the tables say the same.
   Tooltips are drawn on the canvas (richText): HTML tooltips would need inline styles, which
   the CSP forbids. */
(function () {
  "use strict";
  var holder = document.getElementById("stats-month-chart");
  var source = document.getElementById("stats-data");
  if (!holder || !source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  holder.hidden = false;
  var chart = window.echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    color: ["#1565c0"],
    tooltip: { trigger: "axis", renderMode: "richText" },
    grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
    xAxis: {
      type: "category",
      data: data.months,
      axisLabel: { interval: 0, rotate: data.months.length > 4 ? 40 : 0 }
    },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: data.reports_label, type: "bar", data: data.month_counts, barMaxWidth: 28 }
    ]
  });
  window.addEventListener("resize", function () {
    chart.resize();
  });
})();
