"""The japps example for Gradio: a small text tool.

Served when a Gradio app is created without a file. japps gives the port and the public
path in GRADIO_SERVER_PORT, GRADIO_SERVER_NAME and GRADIO_ROOT_PATH, which launch() reads,
so the app itself needs no arguments.
"""

import gradio as gr


def transform(text, style, repeat):
    styles = {
        "UPPER CASE": str.upper,
        "lower case": str.lower,
        "Title Case": str.title,
        "backwards": lambda value: value[::-1],
    }
    result = styles[style](text)
    return "\n".join([result] * int(repeat))


demo = gr.Interface(
    fn=transform,
    inputs=[
        gr.Textbox(label="Text", value="Hello from japps"),
        gr.Radio(["UPPER CASE", "lower case", "Title Case", "backwards"], value="UPPER CASE", label="Style"),
        gr.Slider(1, 5, value=1, step=1, label="Lines"),
    ],
    outputs=gr.Textbox(label="Result"),
    title="Text styler",
    description="An example Gradio app served by japps. Replace it by giving the app a file.",
)

if __name__ == "__main__":
    demo.launch()
