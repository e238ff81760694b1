/* sitegen serve: one event stream shared by every open tab, so twenty tabs hold one connection
   instead of exhausting the browser's six per host. */
"use strict";
var ports = [];
var last = null;
var source = new EventSource("/__sitegen/events");
source.onmessage = function (event) {
  last = event.data;
  ports.forEach(function (port) { port.postMessage(last); });
};
onconnect = function (event) {
  var port = event.ports[0];
  ports.push(port);
  if (last) port.postMessage(last);
  port.start();
};
