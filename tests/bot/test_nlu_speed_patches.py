"""The NLU patches of issue 13 give Rasa's own outputs.

``bot/components/``: ``count_vectors_patch``, ``response_key_patch``, ``features_copy_patch``, ``sparse_stack_patch``,
``inference_batches_patch``, ``graph_run_patch`` and the numpy inputs of ``tf_predict_patch``. Each is compared
with Rasa's code on its own; then, with the trained model (``-m e2e``), the full parse of ~50 askers' messages of
the transcripts and the policies' prediction after each, patched and not (the patches taken out, the tensors made
by TensorFlow's ``convert_to_tensor``).
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow import model_data_utils
from sklearn.feature_extraction.text import CountVectorizer

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import (
    NLU_SPEED_PATCHES,
    count_vectors_patch,
    features_copy_patch,
    inference_batches_patch,
    response_key_patch,
    sparse_stack_patch,
    tf_predict_patch,
)

PATCHES = NLU_SPEED_PATCHES

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "orientation.tar.gz"
CORPUS = ["on a droit a cb de voeux", "je suis en seconde et je veux faire un bts", "merci beaucoup",
          "ma fille est en terminale", "c quoi la date limite pour parcoursup", "bonjour bonjour"]
TOKEN_LISTS = [["on", "a", "droit", "a", "cb", "de", "voeux"], ["merci"], ["merci"], ["zzz", "qwerty"],
               ["bts", "bts", "apres", "un", "bac", "pro"], [], ["é", "ça", "c", ""], ["on", "a", "droit"]]


def assert_same_matrix(ours, theirs):
    if theirs is None:
        assert ours is None
        return
    assert type(ours) is type(theirs) and ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert ours.has_canonical_format == theirs.has_canonical_format
    for name in ("row", "col", "data"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def vectorizers():
    fitted = [CountVectorizer(analyzer="word", ngram_range=(1, 2)).fit(CORPUS),
              CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), max_features=60).fit(CORPUS),
              CountVectorizer(analyzer="char_wb", ngram_range=(2, 4), binary=True).fit(CORPUS)]
    # as Rasa loads one: the vocabulary given, ``vocabulary_`` only made by the first transform
    loaded = CountVectorizer(analyzer="word", ngram_range=(1, 2), vocabulary=fitted[0].vocabulary_)
    return fitted + [loaded]


def test_the_patches_are_in_place_once_the_components_are_imported():
    assert all(patch.installed() for patch in PATCHES)
    assert CountVectorsFeaturizer._create_features is count_vectors_patch.create_features
    assert ResponseSelector._resolve_intent_response_key is response_key_patch.resolve_intent_response_key


@pytest.mark.parametrize("attribute", [TEXT, ACTION_TEXT, "response"])
def test_the_featurisers_matrices_are_sklearns(attribute):
    for vectorizer, twin in zip(vectorizers(), vectorizers()):
        ours, theirs = SimpleNamespace(vectorizers={attribute: vectorizer}), SimpleNamespace(vectorizers={attribute: twin})
        for _ in range(2):  # the second time from the cache
            for tokens in [TOKEN_LISTS, TOKEN_LISTS[:1], TOKEN_LISTS[5:6]]:
                got = count_vectors_patch.create_features(ours, attribute, tokens)
                expected = count_vectors_patch.ORIGINAL(theirs, attribute, tokens)
                for got_list, expected_list in zip(got, expected):
                    assert len(got_list) == len(expected_list)
                    for a, b in zip(got_list, expected_list):
                        assert_same_matrix(a, b)
    assert count_vectors_patch.create_features(SimpleNamespace(vectorizers={}), TEXT, TOKEN_LISTS) == ([None], [None])


def test_a_bounded_cache_and_a_new_vocabulary_give_the_same_rows(monkeypatch):
    monkeypatch.setattr(count_vectors_patch, "MAX_TOKENS", 3)
    monkeypatch.setattr(count_vectors_patch, "MAX_SENTENCES", 1)
    vectorizer = vectorizers()[0]
    ours, theirs = SimpleNamespace(vectorizers={TEXT: vectorizer}), SimpleNamespace(vectorizers={TEXT: vectorizers()[0]})
    for tokens in TOKEN_LISTS * 2:
        for a, b in zip(count_vectors_patch.create_features(ours, TEXT, [tokens]),
                        count_vectors_patch.ORIGINAL(theirs, TEXT, [tokens])):
            assert_same_matrix(a[0], b[0])
    assert len(count_vectors_patch._cache_for(vectorizer).tokens) <= 3
    vectorizer.fit(["un tout autre vocabulaire", "merci"])  # refitted: the rows of the old vocabulary are forgotten
    theirs.vectorizers[TEXT].fit(["un tout autre vocabulaire", "merci"])
    for a, b in zip(count_vectors_patch.create_features(ours, TEXT, [["merci", "vocabulaire"]]),
                    count_vectors_patch.ORIGINAL(theirs, TEXT, [["merci", "vocabulaire"]])):
        assert_same_matrix(a[0], b[0])


def test_an_unfitted_vectoriser_fails_as_in_rasa():
    with pytest.raises(Exception) as ours:
        count_vectors_patch.create_features(SimpleNamespace(vectorizers={TEXT: CountVectorizer()}), TEXT, [["a"]])
    with pytest.raises(Exception) as theirs:
        count_vectors_patch.ORIGINAL(SimpleNamespace(vectorizers={TEXT: CountVectorizer()}), TEXT, [["a"]])
    assert type(ours.value) is type(theirs.value)


def test_the_selectors_keys_are_those_of_rasas_walk():
    responses = {
        "utter_faq/bts": [{"text": "Le BTS se prépare en deux ans."}, {"text": "Un BTS, c'est deux ans."}],
        "utter_faq/voeux": [{"text": "Dix vœux."}, {"image": "voeux.png"}, {"text": None}],
        "utter_faq/doublon": [{"text": "Dix vœux."}, {"text": "faq/bts"}],
        "utter_faq/sans_texte": [{"custom": {"a": 1}}],
    }
    names = ["faq/bts", "faq/voeux", "faq/doublon", "faq/sans_texte", "Le BTS se prépare en deux ans.", "Dix vœux.",
             "faq/inconnu", "", None, "Un BTS, c'est deux ans.", "utter_faq/bts"]
    selector = SimpleNamespace(responses=responses)
    for name in names:
        label = {"name": name, "confidence": 0.5}
        assert response_key_patch.resolve_intent_response_key(selector, label) == \
            response_key_patch.ORIGINAL(selector, label), name
    no_name = {"confidence": 0.5}  # matches a response whose text is None, in Rasa's walk too
    assert response_key_patch.resolve_intent_response_key(selector, no_name) == "faq/voeux" == \
        response_key_patch.ORIGINAL(selector, no_name)
    selector.responses = {"utter_faq/autre": [{"text": "Autre."}]}  # new responses: a new table
    assert response_key_patch.resolve_intent_response_key(selector, {"name": "Autre."}) == "faq/autre"
    assert response_key_patch.resolve_intent_response_key(selector, {"name": "faq/bts"}) is None
    unhashable = SimpleNamespace(responses={"utter_faq/x": [{"text": ["liste"]}]})
    assert response_key_patch.resolve_intent_response_key(unhashable, {"name": "faq/x"}) == "faq/x"
    assert response_key_patch.resolve_intent_response_key(selector, {"name": ["liste"]}) is None


def asker_messages(limit):
    """The first askers' (student, parent) messages of the transcripts, in file order."""
    found = []
    for path in sorted((ROOT / "transcripts").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            conversation = json.loads(line)
            roles = {p["id"]: p["role"] for p in conversation["participants"]}
            found += [(m["text"], roles[m["from"]]) for m in conversation["messages"][:12]
                      if roles.get(m.get("from")) in ("eleve", "parent") and m.get("text")]
    return found[:limit]


def coo(rows, columns, dtype, seed, density=0.3):
    return scipy.sparse.random(rows, columns, density=density, format="coo", dtype=dtype, random_state=seed)


@pytest.mark.parametrize("left, right", [
    (coo(3, 7, np.int64, 1), coo(3, 5, np.int64, 2)),
    (coo(3, 7, np.int64, 1), coo(3, 5, np.float64, 2)),
    (coo(2, 4, np.float32, 3), coo(2, 9, np.int32, 4)),
    (coo(1, 6, np.int64, 5, density=0), coo(1, 3, np.int64, 6)),
    (coo(0, 6, np.int64, 5), coo(0, 3, np.int64, 6)),
    (coo(4, 0, np.int64, 5), coo(4, 3, np.int64, 6)),
])
def test_two_matrices_stacked_as_scipy_stacks_them(left, right):
    assert_same_matrix(sparse_stack_patch.hstack_pair(left, right), scipy.sparse.hstack([left, right]))


def test_other_matrices_go_through_scipys_hstack():
    csr = coo(3, 4, np.int64, 7).tocsr()
    ours = sparse_stack_patch.hstack_pair(csr, coo(3, 2, np.int64, 8))
    theirs = scipy.sparse.hstack([csr, coo(3, 2, np.int64, 8)])
    assert type(ours) is type(theirs) and (ours != theirs).nnz == 0
    with pytest.raises(ValueError):
        sparse_stack_patch.hstack_pair(coo(3, 4, np.int64, 7), coo(2, 4, np.int64, 7))


def features(matrix, origin, kind="sequence"):
    return Features(matrix, kind, TEXT, origin)


def same_features(ours, theirs):
    assert ours.type == theirs.type and ours.attribute == theirs.attribute and ours.origin == theirs.origin
    assert ours._cached_fingerprint == theirs._cached_fingerprint
    if scipy.sparse.issparse(theirs.features):
        assert_same_matrix(ours.features, theirs.features)
    else:
        assert ours.features.dtype == theirs.features.dtype and np.array_equal(ours.features, theirs.features)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_combined_and_fake_features_are_rasas(count):
    sparse = [features(coo(3, 5 + i, np.int64, i), [f"featuriser{i}"]) for i in range(count)]
    dense = [features(np.arange(6, dtype=np.float32).reshape(3, 2) + i, f"dense{i}") for i in range(count)]
    for given in (sparse, dense):
        ours = features_copy_patch.combine_features(given, ["a", "b"])
        theirs = features_copy_patch.ORIGINAL_COMBINE.__func__(given, ["a", "b"])
        same_features(ours, theirs)
        assert ours.features is not given[0].features  # a matrix of its own, as Rasa's deep copy
        for ours, theirs in zip(features_copy_patch.create_fake_features([[None, given]]),
                                features_copy_patch.ORIGINAL_FAKE([[None, given]])):
            same_features(ours, theirs)
            assert ours.origin is not given[0].origin or isinstance(ours.origin, str)
    assert features_copy_patch.combine_features([], []) is None
    message = Message({TEXT: "un bts"}, features=sparse)
    assert Message._combine_features is not None and model_data_utils._create_fake_features is \
        features_copy_patch.create_fake_features
    combined = message.get_sparse_features(TEXT)[0]
    assert combined.features.shape == (3, sum(5 + i for i in range(count)))


class Recorder:
    def __init__(self):
        self.batches = []

    def _rasa_predict(self, batch_in):
        self.batches.append(batch_in)
        return {"n": np.array([len(batch_in[0])]), "first": batch_in[0][:, :1], "other": np.zeros(1)}

    _merge_batch_outputs = staticmethod(inference_batches_patch.RasaModel._merge_batch_outputs)


@pytest.mark.parametrize("batch_size", [1, 2, 5, [2, 4]])
@pytest.mark.parametrize("keys", [None, ["n", "first"]])
def test_the_batches_are_those_of_rasas_generator(batch_size, keys):
    from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData

    rows = [np.arange(4, dtype=np.float32).reshape(1, 4) + i for i in range(5)]
    data = RasaModelData(label_key="label", label_sub_key="ids",
                         data={TEXT: {"sentence": [FeatureArray(np.array(rows), number_of_dimensions=3)]}})
    ours, theirs = Recorder(), Recorder()
    got = inference_batches_patch.run_inference(ours, data, batch_size, keys)
    expected = inference_batches_patch.ORIGINAL(theirs, data, batch_size, keys)
    assert len(ours.batches) == len(theirs.batches) > 0
    for a, b in zip(ours.batches, theirs.batches):
        assert len(a) == len(b) and all(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(a, b))
    assert got.keys() == expected.keys()
    assert all(np.array_equal(got[k], expected[k]) for k in got)


def test_the_numpy_inputs_of_the_prediction_graph_make_the_tensors_tensorflow_makes():
    import tensorflow as tf

    @tf.function(input_signature=[(tf.TensorSpec((None, 3), tf.float32), tf.TensorSpec((None,), tf.int64))])
    def step(batch):
        return {"sum": tf.reduce_sum(batch[0], axis=-1), "ids": batch[1] * 2}

    direct = tf_predict_patch.DirectPredict(step)
    rows, ids = np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(2, dtype=np.int64)
    made = direct._numpy_tensors((rows, ids))
    assert [t.dtype for t in made] == [tf.float32, tf.int64]
    assert all(np.array_equal(t.numpy(), v) for t, v in zip(made, (rows, ids)))
    for other in [(rows.astype(np.float64), ids), (rows.reshape(3, 2), ids), (rows, [0, 1]), (rows[None], ids)]:
        assert direct._numpy_tensors(other) is None  # TensorFlow's conversion and checks, as before
    assert np.array_equal(direct((rows, ids))["sum"], step((rows, ids))["sum"])
    assert np.array_equal(direct((rows.astype(np.float64), ids))["sum"], step((rows, ids))["sum"])


@pytest.mark.e2e
@pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (make train)")
def test_the_trained_models_parse_is_the_same_with_and_without_the_patches():
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    messages = asker_messages(48) + [("merci", "eleve"), ("merci", "parent"), ("ok merci !! et pour un bts ?", "eleve"),
                                     ("", "eleve"), ("/greet", "eleve"), ("😭😭 trop dur", "eleve")]
    agent = Agent.load(str(MODEL))

    async def parse_all():
        return [await agent.processor.parse_message(UserMessage(text, metadata={"audience": audience}))
                for text, audience in messages]

    async def predict_all(parses):
        from rasa.shared.core.events import ActionExecuted, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        predictions = []
        for parse in parses:
            tracker = DialogueStateTracker.from_events(
                "speed", [ActionExecuted("action_listen"), UserUttered(parse["text"], parse["intent"], parse["entities"],
                                                                       parse)], slots=agent.domain.slots)
            predictions.append(agent.processor._predict_next_with_tracker(tracker))
        return predictions

    numpy_tensors = tf_predict_patch.DirectPredict._numpy_tensors
    try:
        patched = asyncio.run(parse_all())
        again = asyncio.run(parse_all())  # from the caches, the graph's order replayed
        patched_predictions = asyncio.run(predict_all(patched)) + asyncio.run(predict_all(patched))
        for patch in PATCHES:
            patch.uninstall()
        tf_predict_patch.DirectPredict._numpy_tensors = lambda self, batch: None
        assert not any(patch.installed() for patch in PATCHES)
        rasas = asyncio.run(parse_all())
        rasas_predictions = asyncio.run(predict_all(rasas)) * 2
    finally:
        tf_predict_patch.DirectPredict._numpy_tensors = numpy_tensors
        for patch in PATCHES:
            patch.install()
    assert len(patched) == len(messages) >= 40
    for ours, ours_again, theirs in zip(patched, again, rasas):
        assert ours == theirs, theirs["text"]
        assert ours_again == theirs, theirs["text"]
    assert any(p.get("response_selector", {}).get("faq", {}).get("ranking") for p in rasas)
    assert patched_predictions == rasas_predictions
