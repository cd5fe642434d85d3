"""``ember.nn``: Parameter, Buffer, Module, containers, layers, losses, init, utils."""
from .parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer  # noqa: F401
from .modules.module import Module  # noqa: F401
from .modules.container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict  # noqa: F401
from .modules.linear import Identity, Linear, Bilinear, LazyLinear, Flatten, Unflatten  # noqa: F401
from .modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .modules.pooling import (MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,  # noqa: F401
                              AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AdaptiveAvgPool1d,
                              AdaptiveAvgPool2d, AdaptiveAvgPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool1d,
                              LPPool2d)
from .modules.padding import (ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d, ZeroPad2d,  # noqa: F401
                              ZeroPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
                              ReplicationPad2d, ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d)
from .modules.pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
from .modules.upsampling import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d  # noqa: F401
from .modules.fold import Fold, Unfold  # noqa: F401
from .modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401
from .modules.attention import MultiheadAttention  # noqa: F401
from .modules.transformer import (Transformer, TransformerEncoder, TransformerDecoder,  # noqa: F401
                                 TransformerEncoderLayer, TransformerDecoderLayer)
from . import utils  # noqa: F401,E402
from . import parallel  # noqa: E402,F401
from .modules.activation import *  # noqa: F401,F403
from .modules.dropout import *  # noqa: F401,F403
from .modules.batchnorm import *  # noqa: F401,F403
from .modules.normalization import *  # noqa: F401,F403
from .modules.sparse import *  # noqa: F401,F403
from .modules.loss import *  # noqa: F401,F403
from .modules.distance import PairwiseDistance, CosineSimilarity  # noqa: F401,E402
from .modules.channelshuffle import ChannelShuffle  # noqa: F401,E402
from .modules.pooling_extra import LPPool3d, FractionalMaxPool2d, FractionalMaxPool3d  # noqa: F401,E402
from .modules.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: F401,E402
from .modules.lazy import (LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d,  # noqa: F401,E402
                           LazyConvTranspose2d, LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d,
                           LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d)
from .modules.sync_batchnorm import SyncBatchNorm  # noqa: F401,E402
from .modules.legacy import NLLLoss2d, Container, CrossMapLRN2d  # noqa: F401,E402
from .parallel import DataParallel  # noqa: F401,E402
from . import init  # noqa: F401,E402
