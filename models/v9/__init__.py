"""[PATCHv9] vhost: experimental tx zero-copy support, as posted (2011-07-17)."""

from models.v9.control import ControlActions
from models.v9.dead import DeadValues
from models.v9.device import DeviceActions
from models.v9.fairness import FairnessAssumptions
from models.v9.guest import GuestActions
from models.v9.presentation import ENVIRONMENTS, PRESENTATION
from models.v9.queries import V9Queries
from models.v9.symmetry import DescriptorSymmetry
from models.v9.worker import WorkerActions


class V9(DeadValues, DescriptorSymmetry, FairnessAssumptions, GuestActions, WorkerActions, DeviceActions,
         ControlActions, V9Queries):
    """The patch as posted: the base every later revision derives from."""

    name = "v9"
    description = "[PATCHv9] vhost: experimental tx zero-copy support, as posted (2011-07-17)"
    presentation = PRESENTATION
    environments = ENVIRONMENTS


MODEL = V9
