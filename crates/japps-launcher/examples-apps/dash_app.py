"""The japps example for Plotly Dash: a function plotter with a callback.

Served when a Dash app is created without a file. Choosing a function or moving the
slider calls back to the server, which returns a new figure.
"""

import math

import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

FUNCTIONS = {
    "sine": math.sin,
    "cosine": math.cos,
    "parabola": lambda x: x * x / 10,
    "sawtooth": lambda x: (x % math.pi) / math.pi,
}

app = Dash(__name__, title="Function plotter")
app.layout = html.Div(
    [
        html.H1("Function plotter"),
        html.P("An example Dash app served by japps. Replace it by giving the app a file."),
        dcc.Dropdown(id="function", options=list(FUNCTIONS), value="sine", clearable=False),
        html.Label("Scale of x"),
        dcc.Slider(id="scale", min=0.5, max=3, step=0.5, value=1),
        dcc.Graph(id="plot"),
    ],
    style={"maxWidth": "720px", "margin": "auto", "fontFamily": "sans-serif"},
)


@app.callback(Output("plot", "figure"), Input("function", "value"), Input("scale", "value"))
def plot(name, scale):
    xs = [step / 10 for step in range(-100, 101)]
    ys = [FUNCTIONS[name](x * scale) for x in xs]
    figure = go.Figure(go.Scatter(x=xs, y=ys, mode="lines"))
    figure.update_layout(title=f"{name} of {scale}·x", margin={"l": 40, "r": 20, "t": 50, "b": 40})
    return figure


if __name__ == "__main__":
    app.run()
