"""NHWC (Keras-style) models: Fixtures/models/keras_nhwc_cnn.onnx and keras_tf2onnx_style.onnx.

1. keras_nhwc_cnn.onnx is a genuine Keras 3 export (KERAS_BACKEND=torch,
   `model.export(path, format="onnx", opset_version=17)`): a channels-last graph whose every
   Conv is wrapped in Transposes, with NHWC bias Adds of shape (1,1,1,C), float->float Casts
   and, for the strided "same" Conv, a Shape/Gather/.../Pad chain computing TensorFlow's
   asymmetric padding at run time.
2. keras_tf2onnx_style.onnx holds the same weights in the graph tf2onnx emits after its
   transpose optimiser: input `input_1:0` (N,H,W,3), one Transpose perm [0,3,1,2], Convs with
   explicit (asymmetric) pads and bias, Relu, a Transpose back to NHWC, ReduceMean over axes
   [1,2], MatMul+Add for each Dense, Softmax. It is built with onnx.helper; both models must give
   the same outputs (checked), which cross-checks the hand-built graph.

Input: 4 photographs, Resize(73)/CenterCrop(64), scaled to [-1, 1] (the `inception` scaling),
NHWC, saved as keras_nhwc_cnn.input.npy (N,64,64,3); outputs are softmax probabilities.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import fixture_common as fc

MODELS = fc.FIXTURES / "models"
IMAGES = ["chelsea", "coffee", "astronaut", "rocket"]


def build_keras_model():
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((64, 64, 3), name="input_1")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inp)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(32, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inp, x, name="keras_nhwc_cnn")


def tf2onnx_style(model) -> onnx.ModelProto:
    w = {layer.name: [np.asarray(v) for v in layer.get_weights()] for layer in model.layers}
    inits = []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    k1, b1 = w["conv1"]
    k2, b2 = w["conv2"]
    d1, c1 = w["dense1"]
    d2, c2 = w["predictions"]
    nodes = [
        helper.make_node("Transpose", ["input_1:0"], ["conv1_input_nchw"], perm=[0, 3, 1, 2],
                         name="Transpose__input"),
        helper.make_node("Conv", ["conv1_input_nchw", const("conv1/kernel", k1.transpose(3, 2, 0, 1)),
                                  const("conv1/bias", b1)], ["conv1/BiasAdd:0"],
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1],
                         group=1, name="conv1/Conv2D"),
        helper.make_node("Relu", ["conv1/BiasAdd:0"], ["conv1/Relu:0"], name="conv1/Relu"),
        # TensorFlow "same" with stride 2 on an even size pads 0 before and 1 after.
        helper.make_node("Conv", ["conv1/Relu:0", const("conv2/kernel", k2.transpose(3, 2, 0, 1)),
                                  const("conv2/bias", b2)], ["conv2/BiasAdd:0"],
                         kernel_shape=[3, 3], pads=[0, 0, 1, 1], strides=[2, 2], dilations=[1, 1],
                         group=1, name="conv2/Conv2D"),
        helper.make_node("Relu", ["conv2/BiasAdd:0"], ["conv2/Relu:0"], name="conv2/Relu"),
        helper.make_node("Transpose", ["conv2/Relu:0"], ["conv2/Relu__nhwc:0"], perm=[0, 2, 3, 1],
                         name="Transpose__pool"),
        helper.make_node("ReduceMean", ["conv2/Relu__nhwc:0"], ["pool/Mean:0"], axes=[1, 2],
                         keepdims=0, name="pool/Mean"),
        helper.make_node("MatMul", ["pool/Mean:0", const("dense1/kernel", d1)], ["dense1/MatMul:0"],
                         name="dense1/MatMul"),
        helper.make_node("Add", ["dense1/MatMul:0", const("dense1/bias", c1)], ["dense1/BiasAdd:0"],
                         name="dense1/BiasAdd"),
        helper.make_node("Relu", ["dense1/BiasAdd:0"], ["dense1/Relu:0"], name="dense1/Relu"),
        helper.make_node("MatMul", ["dense1/Relu:0", const("predictions/kernel", d2)],
                         ["predictions/MatMul:0"], name="predictions/MatMul"),
        helper.make_node("Add", ["predictions/MatMul:0", const("predictions/bias", c2)],
                         ["predictions/BiasAdd:0"], name="predictions/BiasAdd"),
        helper.make_node("Softmax", ["predictions/BiasAdd:0"], ["predictions"], axis=-1,
                         name="predictions/Softmax"),
    ]
    graph = helper.make_graph(
        nodes, "keras_tf2onnx_style",
        [helper.make_tensor_value_info("input_1:0", TensorProto.FLOAT, ["unk__N", 64, 64, 3])],
        [helper.make_tensor_value_info("predictions", TensorProto.FLOAT, ["unk__N", 10])],
        inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="tf2onnx-style (hand-built)")
    onnx.checker.check_model(proto, full_check=True)
    return proto


def main() -> None:
    fc.seed_everything(0)
    images = [fc.sample_image(n) for n in IMAGES]
    nchw = fc.preprocess(images, resize=73, crop=64, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    nhwc = np.ascontiguousarray(nchw.transpose(0, 2, 3, 1))

    model = build_keras_model()
    keras_out = model(nhwc).detach().cpu().numpy()
    genuine = MODELS / "keras_nhwc_cnn.onnx"
    model.export(str(genuine), format="onnx", opset_version=17, verbose=False)
    out = fc.run_ort(genuine, {fc_input_name(genuine): nhwc})[0]
    assert np.abs(out - keras_out).max() < 1e-5, np.abs(out - keras_out).max()
    fc.save_npy(MODELS / "keras_nhwc_cnn.input.npy", nhwc)
    fc.save_npy(MODELS / "keras_nhwc_cnn.output.npy", out)

    styled = MODELS / "keras_tf2onnx_style.onnx"
    onnx.save(tf2onnx_style(model), str(styled))
    out2 = fc.run_ort(styled, {"input_1:0": nhwc})[0]
    assert np.abs(out2 - out).max() < 1e-5, np.abs(out2 - out).max()
    fc.save_npy(MODELS / "keras_tf2onnx_style.input.npy", nhwc)
    fc.save_npy(MODELS / "keras_tf2onnx_style.output.npy", out2)
    for path in (genuine, styled):
        proto = onnx.load(str(path))
        print(f"{path.name}: input {fc_input_name(path)} {list(nhwc.shape)}, ops "
              f"{fc.op_counts(proto)}, argmax {out.argmax(1).tolist()}, max p {out.max():.3f}")


def fc_input_name(path) -> str:
    return onnx.load(str(path), load_external_data=False).graph.input[0].name
