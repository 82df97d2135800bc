"""The japps example for Panel: a savings calculator.

Served when a Panel app is created without a file. Moving a slider sends the new value to
the server over the app's WebSocket, and the server sends back the new balance.
"""

import panel as pn

pn.extension()

deposit = pn.widgets.IntSlider(
    name="Monthly deposit", start=10, end=1000, step=10, value=200
)
rate = pn.widgets.FloatSlider(
    name="Yearly interest (%)", start=0.0, end=10.0, step=0.25, value=3.0
)
years = pn.widgets.IntSlider(name="Years", start=1, end=40, value=10)


def summary(deposit, rate, years):
    monthly_rate = rate / 100 / 12
    balance = 0.0
    for _ in range(years * 12):
        balance = balance * (1 + monthly_rate) + deposit
    paid_in = deposit * years * 12
    return (
        f"### Balance after {years} years: {balance:,.0f}\n\n"
        f"Paid in: {paid_in:,} · interest earned: {balance - paid_in:,.0f}"
    )


pn.Column(
    "# Savings calculator",
    "An example Panel app served by japps. Replace it by giving the app a file.",
    deposit,
    rate,
    years,
    pn.pane.Markdown(pn.bind(summary, deposit, rate, years)),
    max_width=600,
).servable(title="Savings calculator")
