/* The chart library the pages use, and nothing more: ECharts' core with the bar chart, the grid,
   the tooltip, the (scrolling) legend and the canvas renderer. Bundled at setup by
   scripts/build_assets.mjs into build/static/vendor/echarts/charts.min.js (never committed);
   the full library is four times larger. A page that draws another kind of chart adds it here. */
import * as echarts from "echarts/core";
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

// The page scripts (visits/compliance.js, protection/stats.js) call window.echarts.init.
window.echarts = echarts;
