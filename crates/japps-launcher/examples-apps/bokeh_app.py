"""The japps example for Bokeh: a damped oscillation with two sliders.

Served when a Bokeh app is created without a file. The sliders' Python callbacks run on
the server, which pushes the new curve to the browser over the app's WebSocket.
"""

import math

from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, Div, Slider
from bokeh.plotting import figure

TIMES = [step / 20 for step in range(401)]


def curve(frequency, damping):
    return [math.exp(-damping * t) * math.cos(frequency * t) for t in TIMES]


source = ColumnDataSource(data={"t": TIMES, "y": curve(2.0, 0.2)})
plot = figure(
    title="Damped oscillation",
    height=350,
    sizing_mode="stretch_width",
    x_axis_label="time",
    y_axis_label="amplitude",
    y_range=(-1.05, 1.05),
)
plot.line("t", "y", source=source, line_width=2)

frequency = Slider(title="Frequency", start=0.5, end=6.0, step=0.1, value=2.0)
damping = Slider(title="Damping", start=0.0, end=1.0, step=0.02, value=0.2)


def redraw(_attr, _old, _new):
    source.data = {"t": TIMES, "y": curve(frequency.value, damping.value)}


frequency.on_change("value", redraw)
damping.on_change("value", redraw)

curdoc().add_root(
    column(
        Div(text="<h1>Damped oscillation</h1><p>An example Bokeh app served by japps.</p>"),
        frequency,
        damping,
        plot,
        sizing_mode="stretch_width",
    )
)
curdoc().title = "Damped oscillation"
