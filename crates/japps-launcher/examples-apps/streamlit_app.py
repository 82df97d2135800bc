"""The japps example for Streamlit: statistics of a piece of text.

Served when a Streamlit app is created without a file. Every edit reruns this script on
the server; the page talks to it over Streamlit's WebSocket.
"""

from collections import Counter

import streamlit as st

st.set_page_config(page_title="Text statistics")
st.title("Text statistics")
st.caption("An example Streamlit app served by japps. Replace it by giving the app a file.")

text = st.text_area(
    "Some text",
    "A launcher starts the app, waits until it answers, "
    "and then hands every visitor over to it.",
    height=120,
)
words = [word.strip(".,;:!?\"'()[]").lower() for word in text.split()]
words = [word for word in words if word]

words_column, distinct_column, letters_column = st.columns(3)
words_column.metric("Words", len(words))
distinct_column.metric("Distinct words", len(set(words)))
letters_column.metric("Letters", sum(char.isalpha() for char in text))

letters = Counter(char for char in text.lower() if char.isalpha())
if letters:
    st.subheader("Letter frequency")
    st.bar_chart({"count": dict(sorted(letters.items()))})
if words:
    st.subheader("Most common words")
    st.table(
        [{"word": word, "count": count} for word, count in Counter(words).most_common(5)]
    )
