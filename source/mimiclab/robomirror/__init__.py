"""RoboMirror, offline: text or human-motion intents → G1 motion with no retargeting.

A motion autoencoder (``autoencoder``) over heading-invariant G1 motion windows (``features``),
intent encoders into one space (``intent``: text through the shipped MiniLM, ``text``; human 3D
keypoint sequences through a temporal encoder trained contrastively against each clip's label,
``labels``), and an intent-conditioned latent diffusion generator with classifier-free guidance
(``diffusion``), trained together by ``training`` on the corpus of ``corpus`` and run by
``generation``. ``evaluation`` scores generated motion; ``commands`` is the CLI.
"""
