"""IKMR-style learned retargeter: human role motion → G1 motion through a shared latent.

A skeleton-graph encoder over the human body roles (``graph.HUMAN_ROLES``) and one over the G1
kinematic tree map motion into one latent per frame; a shared decoder turns the latent into G1
root motion and joint trajectories (limits by construction). Trained on pairs made by the IK
retargeter (``pairs``), refined on what a tracking policy executed (``mimiclab.rl.refine``).

    model = load_model("models/retarget")                     # inference.load_model
    result = retarget_learned(human_motion, model)            # RetargetResult, as the IK path
"""
